using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Reassure.Formats;
using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Reports;
using Reassure.Verification;
using Reassure.Specifications;
using Reassure.Lp;

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure area --model M.onnx --vnnlib P.vnnlib --out R.onnx [--max-regions n] [--max-seconds s] [--json out.json] [--report report.html]`:
/// finds every violating linear region of the property's boxes, patches them, re-verifies, writes the repaired ONNX.
/// Also the property mode of `verify`. JSON: {"result", "regions", "seconds"} (+ "patched" for area).
/// Exit 0 when the (repaired) property holds, 1 otherwise, 2 for bad input. Budgets are checked by the options' parser
/// (RSR1060), output paths before any work (RSR1070, RSR1071); the ONNX and the JSON are written together after the
/// repair (nothing when it throws).
/// </summary>
internal static class AreaCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var vnnlib = new Option<string>("--vnnlib") { Description = "VNN-LIB property: input boxes and the unsafe output set.", Required = true };
        var outPath = new Option<string>("--out", "-o") { Description = "Where to write the repaired ONNX model.", Required = true };
        var maxRegions = NumericOptions.OptionalInt("--max-regions", "Budget of exact linear regions (default 1000000).", 1, int.MaxValue);
        var maxSeconds = NumericOptions.OptionalDouble("--max-seconds", "Time budget of each search in seconds (result unknown when hit).", 0, minInclusive: false, NumericOptions.MaxSeconds);
        var json = new Option<string?>("--json") { Description = CliOutput.JsonHelp };
        var strategy = new Option<AreaRepairStrategy>("--strategy")
        {
            Description = "regions: one patch per violating linear region (REASSURE); boxes: constant monotone patches on sub-boxes; auto: regions, then boxes when that is not proved.",
            DefaultValueFactory = _ => AreaRepairStrategy.Auto,
        };
        var argmin = new Option<bool>("--argmin") { Description = "The decision is the output with the smallest score (ACAS Xu): box patches then raise an output that is rarely the decision." };
        var report = new Option<string?>("--report") { Description = "Also write an HTML report (charts inline) to this file." };
        var command = new Command("area", "Repair every linear region of a VNN-LIB property's boxes where it fails, then re-verify." + CliFiles.ExitCodes) { model, vnnlib, outPath, maxRegions, maxSeconds, strategy, argmin, json, report };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(vnnlib)!, parse.GetValue(outPath)!, parse.GetValue(maxRegions),
            parse.GetValue(maxSeconds), parse.GetValue(json), output, error, parse.GetValue(strategy), parse.GetValue(argmin), parse.GetValue(report)));
        return command;
    }

    private static VerificationOptions Options(int? maxRegions, double? seconds)
    {
        if (seconds is double sec) NumericOptions.Require("--max-seconds", sec, 0, false, NumericOptions.MaxSeconds);
        if (maxRegions is int mr) NumericOptions.Require("--max-regions", mr, 1, true, int.MaxValue);
        return new()
        {
        MaxTime = seconds is double s ? TimeSpan.FromSeconds(s) : null,
            MaxRegions = maxRegions ?? 1_000_000,
        };
    }

    public static int Verify(string modelPath, string vnnlibPath, double? seconds, string? jsonPath, TextWriter output, TextWriter error) => ReassureCli.Guard(error, () =>
    {
        OutputPaths.Check([("--model", modelPath), ("--vnnlib", vnnlibPath)], [("--json", CliOutput.JsonFile(jsonPath))]);
        var prop = VnnLibReader.Read(vnnlibPath);
        var file = ModelFile.Load(modelPath); // the manifest pair checked; a repaired file read as its graph (RSR1006 otherwise)
        prop.RequireComparisonsOnly(file.Onnx?.StrippedOutputOperator);
        var r = CliOutput.Stage(error, "verify", "proof", () => file.Repaired is { } repaired
            ? VerifyRepaired(repaired, prop, seconds)
            : PropertyVerifier.Verify(file.Network, prop, Options(null, seconds)));
        var node = new JsonObject
        {
            ["result"] = r.StatusText,
            ["regions"] = r.Regions,
            ["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 3),
            ["boxes"] = r.Boxes,
            ["linearPrograms"] = r.LinearPrograms,
            ["budget"] = r.Budget,
            ["counterexample"] = r.Counterexample is null ? null : new JsonArray(r.Counterexample.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
            ["output"] = r.Output is null ? null : new JsonArray(r.Output.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
        };
        var text = node.ToJsonString();
        if (CliOutput.JsonFile(jsonPath) is { } jsonFile) AtomicFile.WriteAllText(jsonFile, text + "\n");
        CliOutput.Summary(output, jsonPath, text, string.Create(CultureInfo.InvariantCulture,
            $"{r.StatusText} ({r.Regions} regions, {r.LinearPrograms} LPs, {r.Elapsed.TotalSeconds:F2} s){(r.Detail is { Length: > 0 } d ? "; " + d : "")}"));
        return r.Status == VerificationStatus.Holds ? ReassureCli.Ok : ReassureCli.Failure;
    });

    /// <summary>
    /// A repaired model's property (its graph checked against its metadata when it was read): sub-box patches have their
    /// own proof; region patches are proved region by region, else searched.
    /// </summary>
    private static VerificationResult VerifyRepaired(RepairedOnnxModel repaired, VnnLibProperty prop, double? seconds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var boxes = MonotoneBoxProof.Verify(repaired.Repaired, prop, Options(null, seconds));
        AreaCertificateResult? cert = null;
        if (boxes is null && repaired.Specs.All(s => s is not null) && repaired.Repaired.Patches.Count > 0)
        {
            var regions = prop.Cases.Select(cs => (IReadOnlyList<RegionPiece>)RegionEnumerator.All(repaired.Repaired.Original, cs.Box)).ToList();
            cert = AreaCertificate.Check(repaired.Repaired, prop, repaired.Specs.Select(s => s!).ToList(), regions);
        }
        return boxes ?? (cert is { Holds: true }
            ? new VerificationResult(VerificationStatus.Holds, null, null, cert.Regions, 0, cert.LinearPrograms, clock.Elapsed, null, "proved region by region: " + cert.Detail, [])
            : PropertyVerifier.Verify(repaired.Repaired, prop, Options(null, seconds)));
    }

    public static int Run(string modelPath, string vnnlibPath, string outPath, int? maxRegions, double? seconds, string? jsonPath, TextWriter output, TextWriter error,
        AreaRepairStrategy strategy = AreaRepairStrategy.Auto, bool argmin = false, string? reportPath = null) => ReassureCli.Guard(error, () =>
    {
        OutputPaths.Check([("--model", modelPath), ("--vnnlib", vnnlibPath)], [("--out", outPath), ("--json", CliOutput.JsonFile(jsonPath)), ("--report", reportPath)]);
        var verification = Options(maxRegions, seconds);
        var file = ModelFile.Load(modelPath);
        var prop = VnnLibReader.Read(vnnlibPath);
        prop.RequireComparisonsOnly(file.Onnx?.StrippedOutputOperator);
        if (file.Repaired is { } prior)
        {
            // A repaired model: when its graph already meets the property there is nothing to patch and the file is
            // written as it is; adding area patches to earlier patches is not supported yet (a coded error, no output).
            var check = VerifyRepaired(prior, prop, seconds);
            if (check.Status != VerificationStatus.Holds)
                throw new ReassureException(ErrorCodes.RepairedModelUnsupported,
                    $"the repaired model does not meet the property ({check.StatusText}) and area repair of an already repaired model is not supported; " +
                    "run `area` on the original model (with every property), or `repair` with rows", modelPath);
            AtomicFile.WriteAllBytes(outPath, File.ReadAllBytes(modelPath));
            var held = new JsonObject
            {
                ["result"] = check.StatusText, ["regions"] = check.Regions, ["boxes"] = check.Boxes, ["violating"] = 0, ["patched"] = 0,
                ["seconds"] = Math.Round(check.Elapsed.TotalSeconds, 3), ["before"] = check.StatusText, ["detail"] = check.Detail, ["out"] = outPath,
            }.ToJsonString();
            if (CliOutput.JsonFile(jsonPath) is { } heldFile) AtomicFile.WriteAllText(heldFile, held + "\n");
            CliOutput.Summary(output, jsonPath, held, $"the repaired model already meets the property; 0 patched; wrote {outPath}");
            return ReassureCli.Ok;
        }
        var r = CliOutput.Stage(error, "area", "search, patches and proof", () => AreaRepairer.Repair(file.Network, prop, new AreaRepairOptions
        {
            Verification = verification,
            Strategy = strategy,
            Decision = argmin ? MonotoneShift.Decision.ArgMin : MonotoneShift.Decision.None,
        }));
        var specs = r.Specs.Count == r.Repaired.Patches.Count ? r.Specs.Cast<LinearSpecification?>().ToList() : null;
        var bytes = file.Onnx is null ? RepairedOnnxExporter.ToBytes(r.Repaired, specs) : RepairedOnnxExporter.ToBytes(r.Repaired, file.Onnx, specs);
        foreach (var e in r.Errors) error.WriteLine(e);
        var node = new JsonObject
        {
            ["result"] = r.After.StatusText,
            ["regions"] = r.Before.Regions,
            ["boxes"] = r.Before.Boxes,
            ["violating"] = r.RegionsFound,
            ["patched"] = r.Patched,
            ["strategy"] = r.Strategy.ToString().ToLowerInvariant(),
            ["seconds"] = Math.Round(r.Seconds, 3),
            ["gamma"] = r.Gamma,
            ["before"] = r.Before.StatusText,
            ["budget"] = r.Before.Budget ?? r.After.Budget,
            ["detail"] = r.After.Detail,
            ["out"] = outPath,
        };
        var text = node.ToJsonString();
        var files = new List<(string, byte[])> { (outPath, bytes) };
        if (CliOutput.JsonFile(jsonPath) is { } jsonFile) files.Add((jsonFile, AtomicFile.Utf8(text + "\n")));
        if (reportPath is not null) files.Add((reportPath, AtomicFile.Utf8(RepairReport.FromArea(r, new RepairReportOptions { Model = modelPath, ArgMin = argmin }).ToHtml())));
        AtomicFile.WriteAll(files);
        CliOutput.Summary(output, jsonPath, text, string.Create(CultureInfo.InvariantCulture, $"{r.RegionsFound} violating {(r.Strategy == AreaRepairStrategy.Boxes ? "boxes" : "regions")}, {r.Patched} patched in {r.Seconds:F2} s; after repair: {r.After.StatusText}; wrote {outPath}"));
        return r.After.Status == VerificationStatus.Holds ? ReassureCli.Ok : ReassureCli.Failure;
    });
}
