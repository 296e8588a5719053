using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Build.Tasks;

/// <summary>
/// Repairs an ONNX model on its buggy rows (REASSURE, through <see cref="Repairer"/>), gates the result on the
/// regression rows (<see cref="RepairGate"/>: RSR2001, RSR2002, RSR2003) and writes the repaired ONNX, the JSON
/// manifest, a Markdown report and the HTML report beside it (Reassure.Reports) as one commit (model first, manifest
/// last with the model's SHA-256). The repaired model is written only when the gate passes. Outputs must differ from
/// the inputs and each other (RSR1070).
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

    /// <summary>
    /// Feature-space repair (method.md §13) at this ONNX tensor (item metadata <c>Layer</c>): the layers before it are a
    /// fixed feature map; regions, patches and proofs are those of the layers after it. Empty: input space.
    /// </summary>
    public string? Layer { get; set; }

    /// <summary>With <see cref="Layer"/>: the feature box lo:hi (item metadata <c>FeatureBox</c>); empty: sound bounds over the input domain.</summary>
    public string? FeatureBox { get; set; }

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
        Formats.OutputPaths.Check(
            [("Model", Model), ("BuggyRows", BuggyRows), ("RegressionRows", RegressionRows)],
            [("Output", Output), ("Manifest", ManifestPath), ("Report", ReportPath), ("the HTML report", HtmlReportPath)]);
        var onnx = OnnxImporter.Load(Model);
        var network = onnx.Network;
        var layer = string.IsNullOrWhiteSpace(Layer) ? null : Layer.Trim();
        if (!string.IsNullOrWhiteSpace(FeatureBox) && layer is null)
            throw new ReassureException(ErrorCodes.InvalidOption, "FeatureBox only applies with Layer (it bounds that tensor's features); set Layer or leave FeatureBox out", "FeatureBox");
        var box = string.IsNullOrWhiteSpace(FeatureBox) ? ((double Lo, double Hi)?)null : ParseBox(FeatureBox.Trim());
        var split = layer is null ? null : FeatureSplitter.Split(onnx, layer);
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
            if (split is not null)
            {
                _features = FeatureRepairer.Repair(split.Split, inputs, Options(settings) with { Float32Evaluator = null },
                    box is { } b ? InputBox.Uniform(split.Split.FeatureSize, b.Lo, b.Hi) : null, new OnnxFeatureFloat32Evaluator(split), new ProgressLog(Log), _cancel.Token);
                result = _features.Suffix;
            }
            else
            {
                result = Repairer.Repair(network, inputs, Options(settings), new ProgressLog(Log), _cancel.Token);
            }
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

        var view = _features is { } fr ? new RepairedView(x => fr.Evaluate(x), x => fr.InAnySupport(x), fr.Inputs) : RepairedView.Of(result);
        var gate = RepairGate.Check(Log, network, buggy is null ? null : view, buggy, regression, settings, ReportPath);
        WriteOutputs(result, buggy is null, gate, settings, buggy, regression, split);
    }

    private FeatureRepairResult? _features;

    /// <summary>"lo:hi" (invariant-culture, finite, lo &lt;= hi); RSR1060 otherwise.</summary>
    private static (double Lo, double Hi) ParseBox(string text)
    {
        var p = text.Split(':');
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (p.Length == 2 && double.TryParse(p[0], System.Globalization.NumberStyles.Float, inv, out double lo)
            && double.TryParse(p[1], System.Globalization.NumberStyles.Float, inv, out double hi)
            && double.IsFinite(lo) && double.IsFinite(hi) && lo <= hi)
            return (lo, hi);
        throw new ReassureException(ErrorCodes.InvalidOption, $"value '{text}' is not lo:hi with finite invariant-culture numbers lo <= hi (e.g. 0:100)", "FeatureBox");
    }

    private static RepairOptions Options(GateSettings settings)
    {
        var options = new RepairOptions { Mode = settings.Mode, Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance };
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
            return RowsFile.Read(BuggyRows, network.InputSize, network.OutputSize);
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
            return RowsFile.Read(RegressionRows, network.InputSize, network.OutputSize);
        }
        catch (ReassureException e)
        {
            Log.Error(e, RegressionRows);
            return null;
        }
    }

    private string ManifestPath => string.IsNullOrWhiteSpace(Manifest) ? RepairOutputs.Beside(Output, ".manifest.json") : Manifest;

    private string ReportPath => string.IsNullOrWhiteSpace(Report) ? RepairOutputs.Beside(Output, ".report.md") : Report;

    private string HtmlReportPath => Path.ChangeExtension(ReportPath, ".html");

    /// <summary>The HTML report's bytes, or null (warning RSR2104) when the chart library's native part cannot load.</summary>
    private byte[]? HtmlReport(RepairResult result, RowsFile? buggy, RowsFile? regression)
    {
        try
        {
            // Under feature-space repair the report measures the suffix on the rows' features: the figures of the whole model.
            var rows = (regression ?? buggy)?.Rows;
            if (rows is not null && _features is not null) rows = _features.FeatureRows(rows);
            return Formats.AtomicFile.Utf8(RepairOutputs.HtmlReport(Model, result, rows));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            // The charts need SkiaSharp's native library; without it the build goes on with report.md alone.
            Log.Warning(BuildCodes.HtmlReportNotWritten, HtmlReportPath, 0, Resources.HtmlReportNotWritten, HtmlReportPath, (e.InnerException ?? e).Message);
            return null;
        }
    }

    /// <summary>
    /// One commit (<see cref="Formats.AtomicFile.WriteAll"/>): the model first (when the gate passed), the reports, the
    /// manifest last carrying the model's SHA-256 (null when no model is written).
    /// </summary>
    private void WriteOutputs(RepairResult result, bool copyThrough, GateFigures gate, GateSettings settings, RowsFile? buggy, RowsFile? regression, OnnxFeatureSplit? split)
    {
        var files = new List<(string, byte[])>();
        string? sha = null;
        if (gate.Passed)
        {
            var model = copyThrough ? File.ReadAllBytes(Model)
                : split is not null ? FeatureOnnxExporter.ToBytes(split, result.Network, result.Specs)
                : RepairedOnnxExporter.ToBytes(result.Network, result.Specs);
            sha = RepairManifest.Sha256(model);
            files.Add((Output, model));
        }
        files.Add((ReportPath, Formats.AtomicFile.Utf8(MarkdownReport.Build(Model, copyThrough ? null : result, gate, settings, buggy, regression))));
        if (HtmlReport(result, buggy, regression) is { } html) files.Add((HtmlReportPath, html));
        files.Add((ManifestPath, Formats.AtomicFile.Utf8(RepairManifest.ToJson(result, Path.GetFileName(Model), sha))));
        if (!gate.Passed) RepairOutputs.DeleteStale(Output);
        RepairOutputs.WriteAll(files);
        if (gate.Passed)
        {
            RepairedModel = Output;
            Log.LogMessage(MessageImportance.Normal, TaskLogExtensions.Format(Resources.Wrote, Output));
        }
        else
        {
            Log.LogMessage(MessageImportance.High, TaskLogExtensions.Format(Resources.ModelNotWritten, Output));
        }
        Log.LogMessage(MessageImportance.High, TaskLogExtensions.Format(Resources.Summary,
            Path.GetFileName(Model), gate.FixedRows, gate.BuggyRows, copyThrough ? 0 : result.Patches.Count,
            result.Timings.Total.TotalSeconds.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
            gate.RegressionRows, Accuracy.Percent(gate.AccuracyBefore), Accuracy.Percent(gate.AccuracyAfter)));
    }
}
