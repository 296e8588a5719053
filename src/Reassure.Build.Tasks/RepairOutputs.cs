using Reassure.Formats;
using Reassure.Repair;
using Reassure.Reports;

namespace Reassure.Build.Tasks;

/// <summary>
/// The task's files, each written atomically (temporary file, then File.Move over the target) so that an
/// interrupted build never leaves a half-written model that looks up to date.
/// </summary>
internal static class RepairOutputs
{
    public static void WriteModel(string path, byte[] onnx) => AtomicFile.WriteAllBytes(path, onnx);

    public static void WriteText(string path, string text) => AtomicFile.WriteAllText(path, text);

    /// <summary>The HTML report beside report.md: accuracy and output change on the regression rows, else on the buggy rows.</summary>
    public static void WriteHtmlReport(string path, string model, RepairResult result, RowsFile? buggy, RowsFile? regression) =>
        RepairReport.FromRepair(result, new RepairReportOptions { Model = model, Evaluation = (regression ?? buggy)?.Rows }).SaveHtml(path);

    /// <summary>Removes a model left by an earlier build, so that a failed gate leaves no model that looks current.</summary>
    public static void DeleteStale(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>The path beside <paramref name="model"/> with another suffix: "m.repaired.onnx" -> "m.repaired" + suffix.</summary>
    public static string Beside(string model, string suffix) =>
        Path.Combine(Path.GetDirectoryName(model) ?? "", Path.GetFileNameWithoutExtension(model) + suffix);
}
