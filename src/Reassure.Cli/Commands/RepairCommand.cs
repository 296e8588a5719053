using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Reassure.Formats;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Reports;
using Reassure.Specifications;

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure repair --model M.onnx --rows BUGGY.csv --out R.onnx [--mode fast|minimal] [--margin m] [--json summary.json]
/// [--check certificate|strict|layered|polytope] [--lp auto|glop] [--report report.html [--eval-rows EVAL.csv]]
/// [--avoid [--avoid-target previous|best-other]] [--layer TENSOR [--feature-box lo:hi]]`:
/// repairs every row of BUGGY.csv to its label (with --avoid: away from its label, to the target the rule picks,
/// method.md §10), writes the repaired ONNX, the optional summary JSON, the optional HTML report and its manifest
/// (R.manifest.json, carrying the ONNX's SHA-256) as one commit (all temporary files first, then renamed ONNX first,
/// manifest last), and exits 0 only when every row is fixed (1 otherwise, 2 for bad input).
/// Before any work: every option value is checked (RSR1060), the outputs must differ from each other and from the
/// inputs (RSR1070) and not be directories (RSR1071), the rows' labels must be outputs of the model (RSR1022) and ONNX
/// Runtime must load the model (RSR1008). With --layer the repair is built in feature space (method.md §13): the graph is
/// cut at the named ONNX tensor (RSR1053 unknown, RSR1058 not a cut), the rows are mapped through the layers before it,
/// and the patch network of the layers after it is attached after that tensor in the written graph. Nothing is written when the repair throws or fixes no row (exit 2 when every
/// row failed for a bad-input reason such as RSR1050, else 1); a partial repair is written and exits 1.
/// </summary>
internal static class RepairCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var rows = new Option<string>("--rows", "-r") { Description = "Buggy rows CSV: inputs, then the required label.", Required = true };
        var outPath = new Option<string>("--out", "-o") { Description = "Where to write the repaired ONNX model.", Required = true };
        var mode = new Option<string>("--mode") { Description = "fast or minimal.", DefaultValueFactory = _ => "fast" };
        mode.AcceptOnlyFromAmong("fast", "minimal");
        var margin = NumericOptions.Double("--margin",
            "Margin by which the label must win, > 0: the label wins strictly, also after float32 rounding; 0 is rejected because a tie would count as fixed.",
            1e-3, 0, minInclusive: false, double.PositiveInfinity);
        var gamma = NumericOptions.Double("--gamma", "Starting support sharpness gamma (raised automatically where a support leaks).", 1.0, 0, minInclusive: false, 1e9);
        var json = new Option<string?>("--json") { Description = CliOutput.JsonHelp };
        var argmin = new Option<bool>("--argmin") { Description = "The label is the output with the smallest score (ACAS Xu)." };
        var threads = NumericOptions.Int("--threads", "Regions solved in parallel (default: the processor count).", () => Environment.ProcessorCount, 1, 4096);
        var header = CliFiles.HeaderOption();
        var check = new Option<string>("--check")
        {
            Description = "How every patch is checked over its region: certificate (default: LP multipliers and the build's early stops, "
                + "no LP), strict (the rows the build stopped early on solved again in a fresh solver), layered or polytope (every row by LP).",
            DefaultValueFactory = _ => "certificate",
        };
        check.AcceptOnlyFromAmong("certificate", "strict", "layered", "polytope");
        var lp = new Option<string>("--lp")
        {
            Description = "Region LP solver: auto (the input-space dual simplex, its answers kept only with a checked certificate, "
                + "GLOP otherwise) or glop (GLOP only).",
            DefaultValueFactory = _ => "auto",
        };
        lp.AcceptOnlyFromAmong("auto", "glop");
        var report = new Option<string?>("--report") { Description = "Also write an HTML report (charts inline) to this file." };
        var evalRows = new Option<string?>("--eval-rows") { Description = "Rows CSV the report measures accuracy and output change on (default: the buggy rows; needs --report)." };
        var avoid = new Option<bool>("--avoid")
        {
            Description = "The label column is a label to AVOID (backdoor / watermark removal): the row's region must make the target "
                + "label of --avoid-target win by the margin. Rows whose avoided label is already not predicted get the same specification.",
        };
        var avoidTarget = new Option<string?>("--avoid-target")
        {
            Description = "With --avoid, the label that must win instead of the avoided label k (m outputs): previous ((k - 1 + m) mod m, "
                + "REASSURE's watermark experiment; the default) or best-other (the best other label at the row by the original model, ties: the lowest index).",
        };
        avoidTarget.AcceptOnlyFromAmong("previous", "best-other");
        var layer = new Option<string?>("--layer")
        {
            Description = "Repair in feature space at this ONNX tensor (see `reassure inspect`): the layers before it are a fixed feature map, "
                + "regions and patches are those of the layers after it, and the patch network is attached after the tensor.",
        };
        var featureBox = new Option<string?>("--feature-box")
        {
            Description = "With --layer, the box lo:hi (every feature) the patches are bounded on; default: sound bounds of the layers before the tensor over the input domain.",
        };
        var command = new Command("repair", "Repair a model so that every given row gets its label; writes the repaired ONNX, its manifest (beside it, *.manifest.json), the --json summary and the --report together, or nothing when no row is fixed or an error stops the run."
            + CliFiles.ExitCodes) { model, rows, outPath, mode, margin, gamma, json, argmin, threads, check, lp, header, report, evalRows, avoid, avoidTarget, layer, featureBox };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(rows)!, parse.GetValue(outPath)!, parse.GetValue(mode)!,
            parse.GetValue(margin), parse.GetValue(gamma), parse.GetValue(json), parse.GetValue(argmin), parse.GetValue(threads), output, error,
            parse.GetValue(check)!, parse.GetValue(lp)!, parse.GetValue(header), parse.GetValue(report), parse.GetValue(evalRows),
            parse.GetValue(avoid), parse.GetValue(avoidTarget), parse.GetValue(layer), parse.GetValue(featureBox)));
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
        RowsHeader header = RowsHeader.Auto, string? reportPath = null, string? evalRowsPath = null, bool avoid = false,
        string? avoidTarget = null, string? layer = null, string? featureBox = null) => ReassureCli.Guard(error, () =>
    {
        if (featureBox is not null && layer is null)
            throw new ReassureException(ErrorCodes.InvalidOption, "--feature-box only applies with --layer (it bounds the features of that tensor); add --layer or leave --feature-box out", "--feature-box");
        (double Lo, double Hi)? box = featureBox is null ? null : ParseBox(featureBox);
        if (avoidTarget is not null && !avoid)
            throw new ReassureException(ErrorCodes.InvalidOption, "--avoid-target only applies with --avoid (the label column is then the label to avoid); add --avoid or leave --avoid-target out", "--avoid-target");
        var rule = AvoidSpecification.Parse(avoidTarget ?? "previous")
            ?? throw new ReassureException(ErrorCodes.InvalidOption, $"--avoid-target must be previous or best-other, not '{avoidTarget}'", "--avoid-target");
        NumericOptions.Require("--margin", margin, 0, false, double.MaxValue);
        NumericOptions.Require("--gamma", gamma, 0, false, 1e9);
        NumericOptions.Require("--threads", threads, 1, true, 4096);
        var manifestPath = ManifestPath(outPath);
        OutputPaths.Check([("--model", modelPath), ("--rows", rowsPath), ("--eval-rows", evalRowsPath)], [("--out", outPath), ("the manifest", manifestPath), ("--json", CliOutput.JsonFile(jsonPath)), ("--report", reportPath)]);
        var file = ModelFile.Load(modelPath);
        var net = file.Network;
        var set = RowsCsv.Read(rowsPath, net.InputSize, net.OutputSize, header);
        if (evalRowsPath is not null && reportPath is null)
            throw new ReassureException(ErrorCodes.InvalidOption, "--eval-rows is only read for the HTML report; add --report FILE or leave --eval-rows out", "--eval-rows");
        // Read before the repair, so that a bad file fails fast; only the report uses it.
        // With --avoid the buggy rows' labels are labels to avoid, not correct labels: the report measures accuracy only on --eval-rows.
        var evalSet = reportPath is null ? null : evalRowsPath is null ? (avoid ? null : set) : RowsCsv.Read(evalRowsPath, net.InputSize, net.OutputSize, header);
        if (file.Onnx is not null) CliFiles.CheckRuntimeLoads(modelPath);
        var buggy = Enumerable.Range(0, set.Count)
            .Select(r => new BuggyInput(set.Inputs[r], avoid
                ? AvoidSpecification.Create(net, set.Inputs[r], set.Labels[r], rule, margin, argmin)
                : new ClassificationSpecification(set.Labels[r], margin, argmin), $"row {r + 1}"))
            .ToList();
        var options = new RepairOptions
        {
            Mode = mode == "minimal" ? PatchMode.Minimal : PatchMode.Fast,
            Gamma = gamma,
            MaxDegreeOfParallelism = Math.Max(1, threads),
            Float32Evaluator = file.Onnx is null ? OnnxRuntimeFloat32Evaluator.Instance : new OnnxRuntimeFloat32Evaluator(file.Onnx),
            CheckFormulation = Formulation(check),
            LpEngine = lp == "glop" ? Lp.RegionLpEngine.Glop : Lp.RegionLpEngine.Auto,
        };
        OnnxFeatureSplit? split = null;
        if (layer is not null)
        {
            if (file.Repaired is not null)
                throw new ReassureException(ErrorCodes.RepairedModelUnsupported, "feature-space repair (--layer) of an already repaired model is not supported; repair the original model with all rows", modelPath);
            if (file.Onnx is null)
                throw new ReassureException(ErrorCodes.FeatureSplitUnsupported, "--layer names an ONNX tensor; expected an .onnx model", modelPath);
            split = FeatureSplitter.Split(file.Onnx, layer);
        }
        // A repaired file: incremental repair, the new patches added to the ones its graph carries.
        FeatureRepairResult? inFeatures = null;
        var result = CliOutput.WithProgress(error, "repair", progress => split is not null
            ? (inFeatures = FeatureRepairer.Repair(split.Split, buggy, options with { Float32Evaluator = null },
                box is { } b ? InputBox.Uniform(split.Split.FeatureSize, b.Lo, b.Hi) : null, new OnnxFeatureFloat32Evaluator(split), progress)).Suffix
            : file.Repaired is { } prior
            ? Repairer.Repair(prior.Repaired, prior.Specs, buggy, options, progress)
            : Repairer.Repair(net, buggy, options, progress));
        foreach (var s in result.Inputs.Where(s => s.ErrorCode is not null))
            error.WriteLine($"{s.ErrorCode}: {rowsPath}: {s.Id}: {s.Message}");
        bool write = result.FixedCount > 0;
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
            ["avoid"] = avoid ? new JsonObject
            {
                ["target"] = AvoidSpecification.Name(rule),
                ["alreadyAvoided"] = Enumerable.Range(0, set.Count).Count(r => Prediction.Of(net.Evaluate(set.Inputs[r]), argmin) != set.Labels[r]),
            } : null,
            ["layer"] = layer,
            ["featureBox"] = split is null ? null : new JsonObject
            {
                ["lower"] = result.Network.Domain.Lower.Min(),
                ["upper"] = result.Network.Domain.Upper.Max(),
            },
            ["out"] = write ? outPath : null,
        };
        var text = summary.ToJsonString();
        if (!write)
        {
            CliOutput.Summary(output, jsonPath, text, string.Create(CultureInfo.InvariantCulture,
                $"fixed 0/{result.Inputs.Count} rows in {result.Timings.Total.TotalSeconds:F2} s; nothing written"));
            bool badInput = result.Inputs.Count > 0 && result.Inputs.All(s => s.ErrorCode?.StartsWith("RSR1", StringComparison.Ordinal) == true);
            return badInput ? ReassureCli.BadInput : ReassureCli.Failure;
        }
        var bytes = split is not null ? FeatureOnnxExporter.ToBytes(split, result.Network, result.Specs)
            : file.Onnx is null ? RepairedOnnxExporter.ToBytes(result.Network, result.Specs) : RepairedOnnxExporter.ToBytes(result.Network, file.Onnx, result.Specs);
        var manifest = RepairManifest.ToJson(result, Path.GetFileName(modelPath), RepairManifest.Sha256(bytes), file.Onnx?.StrippedOutputOperator) + "\n";
        var files = new List<(string, byte[])> { (outPath, bytes) };
        if (CliOutput.JsonFile(jsonPath) is { } jsonFile) files.Add((jsonFile, AtomicFile.Utf8(text + "\n")));
        if (reportPath is not null)
        {
            var html = RepairReport.FromRepair(result, new RepairReportOptions
            {
                Model = modelPath,
                Evaluation = evalSet is not null && inFeatures is not null ? inFeatures.FeatureRows(evalSet) : evalSet, // figures of the whole model
                ArgMin = argmin,
                Notes = [string.Create(CultureInfo.InvariantCulture, $"reassure repair: rows {Path.GetFileName(rowsPath)}{(avoid ? $" (labels to avoid, target {AvoidSpecification.Name(rule)})" : "")}, mode {mode}, margin {margin}, gamma {gamma}, check {check}, lp {lp}{(layer is null ? "" : $", layer {layer} (feature space)")}")],
            }).ToHtml();
            files.Add((reportPath, AtomicFile.Utf8(html)));
        }
        files.Add((manifestPath, AtomicFile.Utf8(manifest)));
        AtomicFile.WriteAll(files);
        CliOutput.Summary(output, jsonPath, text, string.Create(CultureInfo.InvariantCulture,
            $"fixed {result.FixedCount}/{result.Inputs.Count} rows with {result.Patches.Count} patches in {result.Timings.Total.TotalSeconds:F2} s; wrote {outPath}"));
        return result.AllFixed ? ReassureCli.Ok : ReassureCli.Failure;
    });

    /// <summary>"lo:hi" (invariant-culture, finite, lo &lt;= hi); RSR1060 otherwise.</summary>
    internal static (double Lo, double Hi) ParseBox(string text)
    {
        var p = text.Split(':');
        if (p.Length == 2 && double.TryParse(p[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo)
            && double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi)
            && double.IsFinite(lo) && double.IsFinite(hi) && lo <= hi)
            return (lo, hi);
        throw new ReassureException(ErrorCodes.InvalidOption, $"value '{text}' is not lo:hi with finite invariant-culture numbers lo <= hi (e.g. 0:100)", "--feature-box");
    }

    /// <summary>R.onnx -> R.manifest.json beside it.</summary>
    public static string ManifestPath(string outPath) => RepairManifest.PathFor(outPath);
}
