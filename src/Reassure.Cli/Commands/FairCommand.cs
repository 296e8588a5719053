using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reassure.Formats;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure fair --model M.onnx --rows R.csv --sensitive i[,j...] [--domain lo:hi ...] [--to-label] --out F.onnx
/// [--json out.json|-] [--eval-rows OTHER.csv]`: counterfactual-fairness repair (<see cref="FairnessRepairer"/>). Every row
/// is verified on its counterfactual box, the unfair ones are repaired into one network, which is proved and every row
/// verified again; the repaired ONNX, its manifest and the --json summary are written together. With --eval-rows the
/// same figures are measured on those rows (not repaired) before and after. Exit 0 when no row is unfair after the repair
/// and the repair is proved, 1 otherwise, 2 for bad input (RSR1056 a bad --sensitive, RSR1057 a bad --domain).
/// </summary>
internal static class FairCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var rows = new Option<string>("--rows", "-r") { Description = "Rows CSV: inputs, then the label.", Required = true };
        var sensitive = new Option<string>("--sensitive") { Description = "Sensitive input columns, 0-based, comma-separated (e.g. 4 or 4,20).", Required = true };
        var domain = new Option<string[]>("--domain")
        {
            Description = "Domain lo:hi of each sensitive feature, in the order of --sensitive (default 0:1 for every one).",
            AllowMultipleArgumentsPerToken = true,
        };
        var toLabel = new Option<bool>("--to-label") { Description = "Repair each unfair row to its label over the box (default: to the model's decision at the row). Which rows are unfair does not depend on it." };
        var outPath = new Option<string>("--out", "-o") { Description = "Where to write the repaired ONNX model.", Required = true };
        var json = new Option<string?>("--json") { Description = CliOutput.JsonHelp };
        var evalRows = new Option<string?>("--eval-rows") { Description = "Other rows CSV, not repaired: fairness and accuracy measured before and after (generalisation)." };
        var header = CliFiles.HeaderOption();
        var command = new Command("fair",
            "Counterfactual-fairness repair: make every row's decision independent of its sensitive features over their domain, proved per row; "
            + "writes the repaired ONNX, its manifest and the --json summary together." + CliFiles.ExitCodes)
            { model, rows, sensitive, domain, toLabel, outPath, json, evalRows, header };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(rows)!, parse.GetValue(sensitive)!, parse.GetValue(domain),
            parse.GetValue(toLabel), parse.GetValue(outPath)!, parse.GetValue(json), parse.GetValue(evalRows), output, error, parse.GetValue(header)));
        return command;
    }

    /// <summary>"4,20" -> [4, 20]; RSR1056 for anything that is not a list of non-negative integers.</summary>
    internal static int[] ParseSensitive(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int k = 0; k < parts.Length; k++)
            if (!int.TryParse(parts[k], NumberStyles.None, CultureInfo.InvariantCulture, out result[k]))
                throw new ReassureException(ErrorCodes.BadSensitiveFeature, $"'{parts[k]}' is not a 0-based input column; expected e.g. --sensitive 4 or 4,20", "--sensitive");
        return result;
    }

    /// <summary>["0:1", "-1:1"] -> the intervals; RSR1057 for anything else.</summary>
    internal static (double Lo, double Hi)[] ParseDomain(IEnumerable<string> items)
    {
        var list = new List<(double, double)>();
        foreach (var item in items.SelectMany(i => i.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            var p = item.Split(':');
            if (p.Length != 2 || !double.TryParse(p[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo)
                || !double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi))
                throw new ReassureException(ErrorCodes.BadSensitiveDomain, $"'{item}' is not lo:hi (invariant-culture numbers, e.g. 0:1)", "--domain");
            list.Add((lo, hi));
        }
        return [.. list];
    }

    private static JsonObject Figures(FairnessMeasure before, FairnessMeasure after) => new()
    {
        ["rows"] = before.Rows,
        ["unfairBefore"] = before.Unfair,
        ["unfairAfter"] = after.Unfair,
        ["unknownBefore"] = before.Unknown,
        ["unknownAfter"] = after.Unknown,
        ["accuracyBefore"] = Math.Round(before.Accuracy, 6),
        ["accuracyAfter"] = Math.Round(after.Accuracy, 6),
    };

    public static int Run(string modelPath, string rowsPath, string sensitiveText, string[]? domainText, bool toLabel, string outPath, string? jsonPath,
        string? evalRowsPath, TextWriter output, TextWriter error, RowsHeader header = RowsHeader.Auto) => ReassureCli.Guard(error, () =>
    {
        var manifestPath = RepairManifest.PathFor(outPath);
        OutputPaths.Check([("--model", modelPath), ("--rows", rowsPath), ("--eval-rows", evalRowsPath)],
            [("--out", outPath), ("the manifest", manifestPath), ("--json", CliOutput.JsonFile(jsonPath))]);
        var sensitive = ParseSensitive(sensitiveText);
        var domain = domainText is { Length: > 0 } ? ParseDomain(domainText) : null;
        var file = ModelFile.Load(modelPath);
        if (file.Repaired is not null)
            throw new ReassureException(ErrorCodes.RepairedModelUnsupported, "fairness repair of an already repaired model is not supported; run `fair` on the original model", modelPath);
        var net = file.Network;
        var options = new FairnessOptions { Sensitive = sensitive, Domain = domain, ToLabel = toLabel };
        FairnessRepairer.Validate(net, options);
        var set = RowsCsv.Read(rowsPath, net.InputSize, net.OutputSize, header);
        var evalSet = evalRowsPath is null ? null : RowsCsv.Read(evalRowsPath, net.InputSize, net.OutputSize, header);
        var r = CliOutput.Stage(error, "fair", "verify, repair and proof", () => FairnessRepairer.Repair(net, set, options));
        foreach (var e in r.Errors) error.WriteLine(e);
        var node = Figures(r.Before, r.After);
        node["patches"] = r.Patches;
        node["proved"] = r.Proved;
        node["rounds"] = r.Rounds;
        node["gamma"] = r.Area?.Gamma;
        // How "proved" was reached: the region-by-region certificate of the area repair, or (when that did not close)
        // the verifier's exhaustive search of the repaired network (branch and bound, every remaining region by LP).
        node["proof"] = r.Area is null ? "nothing to repair"
            : r.Area.After.Status != Verification.VerificationStatus.Holds ? "none"
            : r.Area.After.Detail.StartsWith("proved region by region", StringComparison.Ordinal) ? "region by region" : "verifier search";
        node["detail"] = r.Area?.After.Detail;
        JsonObject? evalNode = null;
        if (evalSet is not null)
        {
            var evalClock = System.Diagnostics.Stopwatch.StartNew();
            var eb = CliOutput.Stage(error, "fair", "eval rows before", () => FairnessRepairer.Measure(net, evalSet, options));
            var ea = CliOutput.Stage(error, "fair", "eval rows after", () => FairnessRepairer.Measure(r.Repaired, evalSet, options));
            evalNode = Figures(eb, ea);
            evalNode["file"] = evalRowsPath;
            evalNode["seconds"] = Math.Round(evalClock.Elapsed.TotalSeconds, 3);
        }
        node["seconds"] = Math.Round(r.Seconds, 3);
        node["eval"] = evalNode;
        node["out"] = outPath;
        var text = node.ToJsonString();
        var specs = r.Specs.Count == r.Repaired.Patches.Count ? r.Specs.Cast<LinearSpecification?>().ToList() : null;
        var bytes = file.Onnx is null ? RepairedOnnxExporter.ToBytes(r.Repaired, specs) : RepairedOnnxExporter.ToBytes(r.Repaired, file.Onnx, specs);
        var manifest = (JsonObject)node.DeepClone();
        manifest.Remove("out");
        manifest["model"] = Path.GetFileName(modelPath);
        manifest["onnxSha256"] = RepairManifest.Sha256(bytes);
        manifest["sensitive"] = new JsonArray(sensitive.Select(i => (JsonNode)JsonValue.Create(i)).ToArray());
        manifest["unfairRowsBefore"] = new JsonArray(r.Before.UnfairRows.Select(i => (JsonNode)JsonValue.Create(i + 1)).ToArray());
        var files = new List<(string, byte[])> { (outPath, bytes) };
        if (CliOutput.JsonFile(jsonPath) is { } jsonFile) files.Add((jsonFile, AtomicFile.Utf8(text + "\n")));
        files.Add((manifestPath, AtomicFile.Utf8(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n")));
        AtomicFile.WriteAll(files);
        var human = string.Create(CultureInfo.InvariantCulture,
            $"unfair rows {r.Before.Unfair} -> {r.After.Unfair} of {r.Before.Rows} ({(r.Proved ? "proved" : "not proved")}), accuracy {r.Before.Accuracy:P2} -> {r.After.Accuracy:P2}, {r.Patches} patches in {r.Seconds:F2} s; wrote {outPath}");
        var lines = new List<string> { human };
        if (evalNode is not null)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"eval rows {evalRowsPath}: unfair {evalNode["unfairBefore"]} -> {evalNode["unfairAfter"]} of {evalNode["rows"]}, accuracy {(double)evalNode["accuracyBefore"]!:P2} -> {(double)evalNode["accuracyAfter"]!:P2}"));
        CliOutput.Summary(output, jsonPath, text, [.. lines]);
        return r.After.Unfair == 0 && r.After.Unknown == 0 && r.Proved ? ReassureCli.Ok : ReassureCli.Failure;
    });
}
