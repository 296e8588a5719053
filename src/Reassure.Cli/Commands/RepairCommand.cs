using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Reassure.Formats;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Repair;
using Reassure.Reports;

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure repair --model M.onnx --rows BUGGY.csv --out R.onnx [--mode fast|minimal] [--margin m] [--json summary.json]
/// [--check certificate|strict|layered|polytope] [--lp auto|glop] [--report report.html [--eval-rows EVAL.csv]]`:
/// repairs every row of BUGGY.csv to its label, writes the repaired ONNX and its manifest (R.manifest.json) atomically,
/// and exits 0 only when every row is fixed (1 otherwise, 2 for bad input).
/// </summary>
internal static class RepairCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var rows = new Option<string>("--rows", "-r") { Description = "Buggy rows CSV: inputs, then the required label.", Required = true };
        var outPath = new Option<string>("--out", "-o") { Description = "Where to write the repaired ONNX model.", Required = true };
        var mode = new Option<string>("--mode") { Description = "fast (default) or minimal.", DefaultValueFactory = _ => "fast" };
        mode.AcceptOnlyFromAmong("fast", "minimal");
        var margin = new Option<double>("--margin") { Description = "Margin by which the label must win (default 0.001).", DefaultValueFactory = _ => 1e-3 };
        var gamma = new Option<double>("--gamma") { Description = "Starting support sharpness gamma (default 1).", DefaultValueFactory = _ => 1.0 };
        var json = new Option<string?>("--json") { Description = "Also write a summary JSON to this file." };
        var argmin = new Option<bool>("--argmin") { Description = "The label is the output with the smallest score (ACAS Xu)." };
        var threads = new Option<int>("--threads") { Description = "Regions solved in parallel (default: processor count).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var check = new Option<string>("--check")
        {
            Description = "How every patch is checked over its region: certificate (default: LP multipliers and the build's early stops, "
                + "no LP), strict (the rows the build stopped early on solved again in a fresh solver), layered or polytope (every row by LP).",
            DefaultValueFactory = _ => "certificate",
        };
        check.AcceptOnlyFromAmong("certificate", "strict", "layered", "polytope");
        var lp = new Option<string>("--lp")
        {
            Description = "Region LP solver: auto (default: the input-space dual simplex, its answers kept only with a checked certificate, "
                + "GLOP otherwise) or glop (GLOP only).",
            DefaultValueFactory = _ => "auto",
        };
        lp.AcceptOnlyFromAmong("auto", "glop");
        var report = new Option<string?>("--report") { Description = "Also write an HTML report (charts inline) to this file." };
        var evalRows = new Option<string?>("--eval-rows") { Description = "Rows CSV the report measures accuracy and output change on (default: the buggy rows)." };
        var command = new Command("repair", "Repair a model so that every given row gets its label.") { model, rows, outPath, mode, margin, gamma, json, argmin, threads, check, lp, report, evalRows };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(rows)!, parse.GetValue(outPath)!, parse.GetValue(mode)!,
            parse.GetValue(margin), parse.GetValue(gamma), parse.GetValue(json), parse.GetValue(argmin), parse.GetValue(threads), output, error,
            parse.GetValue(check)!, parse.GetValue(lp)!, parse.GetValue(report), parse.GetValue(evalRows)));
        return command;
    }

    private static Patching.PatchVerifier.CheckFormulation Formulation(string check) => check switch
    {
        "strict" => Patching.PatchVerifier.CheckFormulation.CertificateAndLp,
        "layered" => Patching.PatchVerifier.CheckFormulation.Layered,
        "polytope" => Patching.PatchVerifier.CheckFormulation.Polytope,
        _ => Patching.PatchVerifier.CheckFormulation.Certificate,
    };

    public static int Run(string modelPath, string rowsPath, string outPath, string mode, double margin, double gamma, string? jsonPath,
        bool argmin, int threads, TextWriter output, TextWriter error, string check = "certificate", string lp = "auto",
        string? reportPath = null, string? evalRowsPath = null) => ReassureCli.Guard(error, () =>
    {
        var file = ModelFile.Load(modelPath);
        var net = file.Network;
        var set = RowsCsv.Read(rowsPath, net.InputSize);
        // Read before the repair, so that a bad file fails fast; only the report uses it.
        var evalSet = reportPath is null ? null : evalRowsPath is null ? set : RowsCsv.Read(evalRowsPath, net.InputSize);
        for (int r = 0; r < set.Count; r++)
        {
            if (set.Labels[r] >= net.OutputSize)
                throw new ReassureException(ErrorCodes.RowsBadLabel, $"label {set.Labels[r]} is not an output of the model (expected 0..{net.OutputSize - 1})", $"{rowsPath}: row {r + 1}");
        }
        var buggy = Enumerable.Range(0, set.Count)
            .Select(r => new BuggyInput(set.Inputs[r], new ClassificationSpecification(set.Labels[r], margin, argmin), $"row {r + 1}"))
            .ToList();
        var options = new RepairOptions
        {
            Mode = mode == "minimal" ? PatchMode.Minimal : PatchMode.Fast,
            Gamma = gamma,
            MaxDegreeOfParallelism = Math.Max(1, threads),
            Float32Evaluator = file.Onnx is null ? null : new OnnxRuntimeFloat32Evaluator(file.Onnx),
            CheckFormulation = Formulation(check),
            LpEngine = lp == "glop" ? Lp.RegionLpEngine.Glop : Lp.RegionLpEngine.Auto,
        };
        var result = Repairer.Repair(net, buggy, options);
        var bytes = file.Onnx is null ? RepairedOnnxExporter.ToBytes(result.Network) : RepairedOnnxExporter.ToBytes(result.Network, file.Onnx);
        AtomicFile.WriteAllBytes(outPath, bytes);
        AtomicFile.WriteAllText(ManifestPath(outPath), RepairManifest.ToJson(result, Path.GetFileName(modelPath)) + "\n");

        foreach (var s in result.Inputs.Where(s => s.ErrorCode is not null))
            error.WriteLine($"{s.ErrorCode}: {rowsPath}: {s.Id}: {s.Message}");
        var summary = new JsonObject
        {
            ["total"] = result.Inputs.Count,
            ["fixed"] = result.FixedCount,
            ["patches"] = result.Patches.Count,
            ["seconds"] = Math.Round(result.Timings.Total.TotalSeconds, 3),
            ["linearPrograms"] = result.Timings.LinearPrograms,
            ["simplexLinearPrograms"] = result.Timings.SimplexLinearPrograms,
            ["glopFallbacks"] = result.Timings.GlopFallbacks,
            ["maxGamma"] = result.Patches.Count == 0 ? null : result.Patches.Max(p => p.Gamma),
            ["verified"] = result.Patches.Count(p => p.Verified),
            ["check"] = new JsonObject
            {
                ["formulation"] = check,
                ["rowsCertified"] = result.Patches.Sum(p => p.RowsCertified),
                ["rowsByBuildStop"] = result.Patches.Sum(p => p.RowsByBuildStop),
                ["linearPrograms"] = result.Patches.Sum(p => p.CheckLinearPrograms),
            },
            ["out"] = outPath,
        };
        var text = summary.ToJsonString();
        output.WriteLine(text);
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, text + "\n");
        if (reportPath is not null)
            RepairReport.FromRepair(result, new RepairReportOptions
            {
                Model = modelPath,
                Evaluation = evalSet,
                ArgMin = argmin,
                Notes = [string.Create(CultureInfo.InvariantCulture, $"reassure repair: rows {Path.GetFileName(rowsPath)}, mode {mode}, margin {margin}, gamma {gamma}, check {check}, lp {lp}")],
            }).SaveHtml(reportPath);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fixed {result.FixedCount}/{result.Inputs.Count} rows with {result.Patches.Count} patches in {result.Timings.Total.TotalSeconds:F2} s; wrote {outPath}"));
        return result.AllFixed ? ReassureCli.Ok : ReassureCli.Failure;
    });

    /// <summary>R.onnx -> R.manifest.json beside it.</summary>
    public static string ManifestPath(string outPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, Path.GetFileNameWithoutExtension(outPath) + ".manifest.json");
}
