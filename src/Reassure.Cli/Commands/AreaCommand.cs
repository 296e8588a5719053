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

namespace Reassure.Cli.Commands;

/// <summary>
/// `reassure area --model M.onnx --vnnlib P.vnnlib --out R.onnx [--max-regions n] [--max-seconds s] [--json out.json] [--report report.html]`:
/// finds every violating linear region of the property's boxes, patches them, re-verifies, writes the repaired ONNX.
/// Also the property mode of `verify`. JSON: {"result", "regions", "seconds"} (+ "patched" for area).
/// Exit 0 when the (repaired) property holds, 1 otherwise, 2 for bad input.
/// </summary>
internal static class AreaCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var vnnlib = new Option<string>("--vnnlib") { Description = "VNN-LIB property: input boxes and the unsafe output set.", Required = true };
        var outPath = new Option<string>("--out", "-o") { Description = "Where to write the repaired ONNX model.", Required = true };
        var maxRegions = new Option<int?>("--max-regions") { Description = "Budget of exact linear regions." };
        var maxSeconds = new Option<double?>("--max-seconds") { Description = "Time budget of each search (result unknown when hit)." };
        var json = new Option<string?>("--json") { Description = "Also write the result as JSON to this file." };
        var strategy = new Option<AreaRepairStrategy>("--strategy")
        {
            Description = "regions: one patch per violating linear region (REASSURE); boxes: constant monotone patches on sub-boxes; auto: regions, then boxes when that is not proved.",
            DefaultValueFactory = _ => AreaRepairStrategy.Auto,
        };
        var argmin = new Option<bool>("--argmin") { Description = "The decision is the output with the smallest score (ACAS Xu): box patches then raise an output that is rarely the decision." };
        var report = new Option<string?>("--report") { Description = "Also write an HTML report (charts inline) to this file." };
        var command = new Command("area", "Repair every linear region of a VNN-LIB property's boxes where it fails, then re-verify.") { model, vnnlib, outPath, maxRegions, maxSeconds, strategy, argmin, json, report };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(vnnlib)!, parse.GetValue(outPath)!, parse.GetValue(maxRegions),
            parse.GetValue(maxSeconds), parse.GetValue(json), output, error, parse.GetValue(strategy), parse.GetValue(argmin), parse.GetValue(report)));
        return command;
    }

    private static VerificationOptions Options(int? maxRegions, double? seconds) => new()
    {
        MaxTime = seconds is double s ? TimeSpan.FromSeconds(s) : null,
        MaxRegions = maxRegions ?? 1_000_000,
    };

    public static int Verify(string modelPath, string vnnlibPath, double? seconds, string? jsonPath, TextWriter output, TextWriter error) => ReassureCli.Guard(error, () =>
    {
        var prop = VnnLibReader.Read(vnnlibPath);
        var repaired = Path.GetExtension(modelPath).Equals(".onnx", StringComparison.OrdinalIgnoreCase) ? RepairedOnnxImporter.TryLoad(modelPath) : null;
        VerificationResult r;
        if (repaired is null)
        {
            r = PropertyVerifier.Verify(ModelFile.Load(modelPath).Network, prop, Options(null, seconds));
        }
        else
        {
            // A repaired model (patches in its metadata): sub-box patches have their own proof; region patches are proved
            // region by region, else searched.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var boxes = MonotoneBoxProof.Verify(repaired.Repaired, prop, Options(null, seconds));
            AreaCertificateResult? cert = null;
            if (boxes is null && repaired.Specs.All(s => s is not null) && repaired.Repaired.Patches.Count > 0)
            {
                var regions = prop.Cases.Select(cs => (IReadOnlyList<RegionPiece>)RegionEnumerator.All(repaired.Repaired.Original, cs.Box)).ToList();
                cert = AreaCertificate.Check(repaired.Repaired, prop, repaired.Specs.Select(s => s!).ToList(), regions);
            }
            r = boxes ?? (cert is { Holds: true }
                ? new VerificationResult(VerificationStatus.Holds, null, null, cert.Regions, 0, cert.LinearPrograms, clock.Elapsed, null, "proved region by region: " + cert.Detail, [])
                : PropertyVerifier.Verify(repaired.Repaired, prop, Options(null, seconds)));
        }
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
        output.WriteLine(text);
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, text + "\n");
        return r.Status == VerificationStatus.Holds ? ReassureCli.Ok : ReassureCli.Failure;
    });

    public static int Run(string modelPath, string vnnlibPath, string outPath, int? maxRegions, double? seconds, string? jsonPath, TextWriter output, TextWriter error,
        AreaRepairStrategy strategy = AreaRepairStrategy.Auto, bool argmin = false, string? reportPath = null) => ReassureCli.Guard(error, () =>
    {
        var file = ModelFile.Load(modelPath);
        var prop = VnnLibReader.Read(vnnlibPath);
        var r = AreaRepairer.Repair(file.Network, prop, new AreaRepairOptions
        {
            Verification = Options(maxRegions, seconds),
            Strategy = strategy,
            Decision = argmin ? MonotoneShift.Decision.ArgMin : MonotoneShift.Decision.None,
        });
        var specs = r.Specs.Count == r.Repaired.Patches.Count ? r.Specs.Cast<LinearSpecification?>().ToList() : null;
        var bytes = file.Onnx is null ? RepairedOnnxExporter.ToBytes(r.Repaired, specs) : RepairedOnnxExporter.ToBytes(r.Repaired, file.Onnx, specs);
        AtomicFile.WriteAllBytes(outPath, bytes);
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
        output.WriteLine(text);
        if (jsonPath is not null) AtomicFile.WriteAllText(jsonPath, text + "\n");
        if (reportPath is not null) RepairReport.FromArea(r, new RepairReportOptions { Model = modelPath, ArgMin = argmin }).SaveHtml(reportPath);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.RegionsFound} violating {(r.Strategy == AreaRepairStrategy.Boxes ? "boxes" : "regions")}, {r.Patched} patched in {r.Seconds:F2} s; after repair: {r.After.StatusText}; wrote {outPath}"));
        return r.After.Status == VerificationStatus.Holds ? ReassureCli.Ok : ReassureCli.Failure;
    });
}
