using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Repair;

namespace Reassure.Build.Tasks;

/// <summary>
/// Repairs an ONNX model on its buggy rows (REASSURE, through <see cref="Repairer"/>), gates the result on the
/// regression rows (<see cref="RepairGate"/>: RSR2001, RSR2002, RSR2003) and writes the repaired ONNX, the JSON
/// manifest, a Markdown report and the HTML report beside it (Reassure.Reports), each atomically. The repaired model
/// is written only when the gate passes.
/// Run it through TaskHostFactory (see build/Reassure.MLNet.targets): it loads OR-Tools and ONNX Runtime natively.
/// </summary>
public sealed class RepairModel : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    public RepairModel() : base(Resources.ResourceManager)
    {
    }

    /// <summary>The ONNX model to repair.</summary>
    [Required]
    public string Model { get; set; } = "";

    /// <summary>Rows CSV of inputs the model gets wrong, with the label each must get; empty: nothing to repair.</summary>
    public string? BuggyRows { get; set; }

    /// <summary>Rows CSV the repaired model is gated on (accuracy and locality); empty: no gate on them.</summary>
    public string? RegressionRows { get; set; }

    /// <summary>Where the repaired ONNX goes.</summary>
    [Required]
    public string Output { get; set; } = "";

    /// <summary>Where the JSON manifest goes; default beside <see cref="Output"/> as *.manifest.json.</summary>
    public string? Manifest { get; set; }

    /// <summary>Where the Markdown report goes; default beside <see cref="Output"/> as *.report.md.</summary>
    public string? Report { get; set; }

    /// <summary>Allowed accuracy drop on the regression rows in percentage points (default 0).</summary>
    public string? MaxAccuracyDrop { get; set; }

    /// <summary>Optional absolute accuracy floor on the regression rows, 0..1.</summary>
    public string? MinAccuracy { get; set; }

    /// <summary>fast (default) or minimal.</summary>
    public string? Mode { get; set; }

    /// <summary>Margin by which a buggy row's label must win after repair; default the engine's (1e-3).</summary>
    public string? Margin { get; set; }

    /// <summary>Starting support sharpness gamma (method.md §4); default the engine's. Larger keeps patches closer to their regions.</summary>
    public string? Gamma { get; set; }

    /// <summary>The repaired model, set when the gate passed and the model was written.</summary>
    [Output]
    public string? RepairedModel { get; set; }

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        try
        {
            Run();
        }
        catch (ReassureException e)
        {
            Log.Error(e, Model);
        }
        return !Log.HasLoggedErrors;
    }

    private void Run()
    {
        var settings = GateSettings.Parse(Log, MaxAccuracyDrop, MinAccuracy, Mode, Margin, Gamma);
        if (settings is null) return;
        var network = OnnxImporter.Load(Model).Network;
        var buggy = ReadBuggyRows(network);
        var regression = ReadRegressionRows(network);
        if (Log.HasLoggedErrors) return;

        var inputs = new List<BuggyInput>();
        for (int r = 0; r < (buggy?.Count ?? 0); r++)
        {
            var spec = settings.Margin is double m
                ? new ClassificationSpecification(buggy!.Rows.Labels[r], m)
                : new ClassificationSpecification(buggy!.Rows.Labels[r]);
            inputs.Add(new BuggyInput(buggy.Rows.Inputs[r], spec, buggy.Name(r)));
        }
        RepairResult result;
        try
        {
            result = Repairer.Repair(network, inputs, Options(settings), new ProgressLog(Log), _cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Log.LogError(TaskLogExtensions.Format(Resources.RepairCanceled, Model));
            return;
        }
        catch (ReassureException e)
        {
            Log.Error(e.Code, Model, 0, Resources.RepairFailed, Model, e.Message);
            return;
        }

        var gate = RepairGate.Check(Log, network, buggy is null ? null : RepairedView.Of(result), buggy, regression, settings);
        WriteOutputs(result, buggy is null, gate, settings, buggy, regression);
    }

    private static RepairOptions Options(GateSettings settings)
    {
        var options = new RepairOptions { Mode = settings.Mode };
        return settings.Gamma is double gamma ? options with { Gamma = gamma } : options;
    }

    private RowsFile? ReadBuggyRows(Network network)
    {
        if (string.IsNullOrWhiteSpace(BuggyRows))
        {
            Log.Warning(BuildCodes.NothingToRepair, Model, 0, Resources.NoBuggyRowsFile, Model);
            return null;
        }
        try
        {
            return RowsFile.Read(BuggyRows, network.InputSize);
        }
        catch (ReassureException e) when (e.Code == ErrorCodes.RowsEmpty)
        {
            Log.Warning(BuildCodes.NothingToRepair, BuggyRows, 0, Resources.NoBuggyRows, Model);
        }
        catch (ReassureException e)
        {
            Log.Error(e, BuggyRows);
        }
        return null;
    }

    private RowsFile? ReadRegressionRows(Network network)
    {
        if (string.IsNullOrWhiteSpace(RegressionRows))
        {
            Log.Warning(BuildCodes.NoRegressionRows, Model, 0, Resources.NoRegressionRows, Model);
            return null;
        }
        try
        {
            return RowsFile.Read(RegressionRows, network.InputSize);
        }
        catch (ReassureException e)
        {
            Log.Error(e, RegressionRows);
            return null;
        }
    }

    private void WriteHtmlReport(string path, RepairResult result, RowsFile? buggy, RowsFile? regression)
    {
        try
        {
            RepairOutputs.WriteHtmlReport(path, Model, result, buggy, regression);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            // The charts need SkiaSharp's native library; without it the build goes on with report.md alone.
            Log.Warning(BuildCodes.HtmlReportNotWritten, path, 0, Resources.HtmlReportNotWritten, path, (e.InnerException ?? e).Message);
        }
    }

    private void WriteOutputs(RepairResult result, bool copyThrough, GateFigures gate, GateSettings settings, RowsFile? buggy, RowsFile? regression)
    {
        string manifest = string.IsNullOrWhiteSpace(Manifest) ? RepairOutputs.Beside(Output, ".manifest.json") : Manifest;
        string report = string.IsNullOrWhiteSpace(Report) ? RepairOutputs.Beside(Output, ".report.md") : Report;
        RepairOutputs.WriteText(manifest, RepairManifest.ToJson(result, Path.GetFileName(Model)));
        RepairOutputs.WriteText(report, MarkdownReport.Build(Model, copyThrough ? null : result, gate, settings, buggy, regression));
        WriteHtmlReport(Path.ChangeExtension(report, ".html"), result, buggy, regression);
        if (gate.Passed)
        {
            RepairOutputs.WriteModel(Output, copyThrough ? File.ReadAllBytes(Model) : RepairedOnnxExporter.ToBytes(result.Network));
            RepairedModel = Output;
            Log.LogMessage(MessageImportance.Normal, TaskLogExtensions.Format(Resources.Wrote, Output));
        }
        else
        {
            RepairOutputs.DeleteStale(Output);
            Log.LogMessage(MessageImportance.High, TaskLogExtensions.Format(Resources.ModelNotWritten, Output));
        }
        Log.LogMessage(MessageImportance.High, TaskLogExtensions.Format(Resources.Summary,
            Path.GetFileName(Model), gate.FixedRows, gate.BuggyRows, copyThrough ? 0 : result.Patches.Count,
            result.Timings.Total.TotalSeconds.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
            gate.RegressionRows, Accuracy.Percent(gate.AccuracyBefore), Accuracy.Percent(gate.AccuracyAfter)));
    }
}
