using System.Diagnostics;
using System.Globalization;
using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Verification;
using Reassure.Benchmarks;
using Reassure.Specifications;
using Reassure.Lp;

internal static partial class Benchmarks
{
    /// <summary>The REASSURE HCAS area: x, y in [10, 5000] ft, psi in [-pi, -pi/2]; unsafe: some output j &lt; 4 reaches y_4.</summary>
    public static string HcasProperty()
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < 3; i++) sb.Append(CultureInfo.InvariantCulture, $"(declare-const X_{i} Real)\n");
        for (int j = 0; j < 5; j++) sb.Append(CultureInfo.InvariantCulture, $"(declare-const Y_{j} Real)\n");
        sb.Append("(assert (>= X_0 10)) (assert (<= X_0 5000)) (assert (>= X_1 10)) (assert (<= X_1 5000))\n");
        sb.Append(CultureInfo.InvariantCulture, $"(assert (>= X_2 {-Math.PI:R})) (assert (<= X_2 {-Math.PI / 2:R}))\n");
        sb.Append("(assert (or (and (>= Y_0 Y_4)) (and (>= Y_1 Y_4)) (and (>= Y_2 Y_4)) (and (>= Y_3 Y_4))))\n");
        return sb.ToString();
    }

    public static int Hcas()
    {
        var net = OnnxImporter.Load(SharedData.File("models", "hcas-pra1-tau20.onnx")).Network;
        var prop = VnnLibReader.Parse(HcasProperty(), "hcas-tau20-area");
        var box = prop.Cases[0].Box;
        var sw = Stopwatch.StartNew();
        var regions = RegionEnumerator.All(net, box);
        Console.WriteLine($"HCAS tau20: {regions.Count} linear regions in the box ({sw.Elapsed.TotalSeconds:F2} s; REASSURE: 165)");
        var options = new AreaRepairOptions { Verification = new VerificationOptions { MaxUnstableForExact = 1000 } };
        var result = AreaRepairer.Repair(net, prop, options);
        Console.WriteLine($"violating regions {result.RegionsFound} (REASSURE: 87), patched {result.Patched}, gamma {result.Gamma}, errors {result.Errors.Count}");
        Console.WriteLine($"seconds: total {result.Seconds:F2} (search {result.Before.Elapsed.TotalSeconds:F2}, patches {result.PatchSeconds:F2}, re-verify {result.After.Elapsed.TotalSeconds:F2}); REASSURE 1.04-2.46 s for the repair without a proof; main before issue 21 8.87 s; target <= 2 s; load {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"re-verification: {result.After.StatusText} ({result.After.Detail}) regions {result.After.Regions} LPs {result.After.LinearPrograms}");
        foreach (var e in result.Errors.Take(5)) Console.WriteLine("  " + e);
        var patched = result.Repaired.Patches.Select(p => p.Region.Pattern).ToHashSet();
        var rng = new Random(0);
        int inArea = 0, nse = 0, boxViolBefore = 0;
        for (int s = 0; s < 100_000; s++)
        {
            var x = new[] { 10 + rng.NextDouble() * 4990, 10 + rng.NextDouble() * 4990, -Math.PI + rng.NextDouble() * Math.PI / 2 };
            if (prop.Cases[0].IsUnsafe(net.Evaluate(x))) boxViolBefore++;
            if (!patched.Contains(net.Pattern(x))) continue;
            inArea++;
            if (prop.Cases[0].IsUnsafe(result.Repaired.Evaluate(x))) nse++;
        }
        Console.WriteLine($"NSE: {nse}/{inArea} sampled points in repaired regions still violate = {100.0 * nse / Math.Max(1, inArea):F3} % (REASSURE 0 %); before repair {boxViolBefore}/100000 of the box violated");
        int agree = 0, agreeOutside = 0, outside = 0;
        for (int s = 0; s < 100_000; s++)
        {
            var x = new[] { -56000 + rng.NextDouble() * 112000, -56000 + rng.NextDouble() * 112000, -Math.PI + rng.NextDouble() * 2 * Math.PI };
            bool same = ArgMax(net.Evaluate(x)) == ArgMax(result.Repaired.Evaluate(x));
            if (same) agree++;
            if (!result.Repaired.InAnySupport(x)) { outside++; if (same) agreeOutside++; }
        }
        Console.WriteLine($"accuracy vs original advisories on 1e5 random points of [-56000,56000]^2 x [-pi,pi]: {100.0 * agree / 100_000:F3} % (REASSURE 97.8-98.1 % on its training data); outside every support {agreeOutside}/{outside}");
        return 0;
    }

    public static int AcasArea(double seconds, AreaRepairStrategy strategy, string? only)
    {
        (string Net, string Prop)[] cases = [("1_9", "4"), ("1_9", "3"), ("2_1", "2"), ("2_9", "2"), ("2_9", "8"), ("1_9", "7")];
        Console.WriteLine($"ACAS Xu area repair, strategy {strategy}, budget {seconds} s per search; load {File.ReadAllText("/proc/loadavg").Trim()}");
        var rows = new List<string>();
        foreach (var (n, p) in cases)
        {
            if (only is not null && only != $"{n}/{p}") continue;
            var model = OnnxImporter.Load(SharedData.File("vnncomp", "acasxu", $"ACASXU_run2a_{n}_batch_2000.onnx"));
            var net = model.Network;
            var prop = VnnLibReader.Read(SharedData.File("vnncomp", "acasxu", $"prop_{p}.vnnlib"));
            // ACAS Xu advisories are the argmin of the scores: box patches raise an output that is rarely the advisory (as `area --argmin`).
            var options = new AreaRepairOptions { Strategy = strategy, Decision = MonotoneShift.Decision.ArgMin, Verification = new VerificationOptions { MaxTime = TimeSpan.FromSeconds(seconds) } };
            var r = AreaRepairer.Repair(net, prop, options);
            // What `area` writes and `verify --vnnlib` reads back: the ONNX file with its patches in the metadata.
            var clock = Stopwatch.StartNew();
            var bytes = RepairedOnnxExporter.ToBytes(r.Repaired, model, r.Specs.Count == r.Repaired.Patches.Count ? r.Specs.Cast<LinearSpecification?>().ToList() : null);
            var loaded = RepairedOnnxImporter.TryLoad(bytes, "repaired.onnx");
            var again = loaded is null ? null : MonotoneBoxProof.Verify(loaded.Repaired, prop, new VerificationOptions { MaxTime = TimeSpan.FromSeconds(seconds) });
            double verifySeconds = clock.Elapsed.TotalSeconds;
            var (agree, inBoxViolBefore, inBoxViolAfter, inBoxChanged) = ScoreAcas(net, x => r.Repaired.Evaluate(x), prop.Cases[0]);
            const int inBox = 100_000;
            var shifts = r.Repaired.Patches.Select(q => q.Patch.D.Max(Math.Abs)).Order().ToArray();
            double scale = net.Evaluate(prop.Cases[0].Box.Center()).Max(Math.Abs);
            Console.WriteLine($"N{n} prop_{p}: before {r.Before.StatusText} ({r.Before.Detail}); patched {r.Patched} ({r.Strategy}), {r.Seconds:F1} s " +
                $"(search+patches {r.PatchSeconds:F1} s, {r.Before.Boxes} boxes bounded); after: {r.After.StatusText} ({r.After.Detail}, {r.After.Elapsed.TotalSeconds:F1} s); " +
                $"file round trip + verify: {again?.StatusText ?? "n/a"} ({verifySeconds:F1} s, {bytes.Length / 1024} KiB); " +
                $"accuracy vs original advisories on 1e5 points of the ACAS domain {100.0 * agree / 100_000:F3} %; " +
                $"in the property box violating before {inBoxViolBefore}/{inBox}, after {inBoxViolAfter}/{inBox}, advisory changed {inBoxChanged}/{inBox}; errors {r.Errors.Count}");
            rows.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| N{n}, {p} | {r.Patched} | {r.PatchSeconds:F1} | {r.After.Elapsed.TotalSeconds:F1} | {r.Seconds:F1} | {r.After.StatusText} | {again?.StatusText ?? "n/a"}, {verifySeconds:F1} s | " +
                $"{(shifts.Length == 0 ? 0 : shifts[shifts.Length / 2]):G3} / {(shifts.Length == 0 ? 0 : shifts[^1]):G3} ({scale:G2}) | {100.0 * agree / 100_000:F3} % | {inBoxViolBefore} -> {inBoxViolAfter}, {inBoxChanged} |"));
            foreach (var e in r.Errors.Take(3)) Console.WriteLine("  " + e);
        }
        Console.WriteLine();
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load at the end {File.ReadAllText("/proc/loadavg").Trim()}; search budget {seconds} s, strategy {strategy}, argmin advisories; target: search + proof <= 30 s each");
        Console.WriteLine("Anchors: main before issue 21 0.2-362.7 s search + 0.02-342.8 s proof, up to 4347 box patches; VeRe 1.4-8.6 s, PRDNN 3.4-23.6 s (no full proof).");
        Console.WriteLine();
        Console.WriteLine("| net, property | patches | search s | proof s | total s | proof | file round trip + `verify` | shift median / max (output scale) | accuracy vs original advisories, ACAS domain | property box: violating before -> after, advisory changed |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---|---|---:|---|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    /// <summary>
    /// Scores repaired ACAS Xu files written by `reassure area` (named N{net}_p{prop}.onnx in <paramref name="dir"/>): the
    /// network rebuilt from the file's metadata against the original on 1e5 random points of the ACAS domain and of the
    /// property box.
    /// </summary>
    public static int AcasFiles(string dir)
    {
        foreach (var file in Directory.GetFiles(dir, "N*_p*.onnx").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file); // N2_1_p2
            int cut = name.LastIndexOf("_p", StringComparison.Ordinal);
            string net = name[1..cut], p = name[(cut + 2)..];
            var original = OnnxImporter.Load(SharedData.File("vnncomp", "acasxu", $"ACASXU_run2a_{net}_batch_2000.onnx")).Network;
            var prop = VnnLibReader.Read(SharedData.File("vnncomp", "acasxu", $"prop_{p}.vnnlib"));
            var repaired = RepairedOnnxImporter.TryLoad(file) ?? throw new InvalidOperationException($"{file} carries no patches");
            var (agree, violBefore, violAfter, changed) = ScoreAcas(original, x => repaired.Repaired.Evaluate(x), prop.Cases[0]);
            Console.WriteLine($"N{net} prop_{p}: {repaired.Repaired.Patches.Count} patches; accuracy vs original advisories on 1e5 points of the ACAS domain " +
                $"{100.0 * agree / 100_000:F3} %; property box (1e5 points): violating {violBefore} -> {violAfter}, advisory changed {changed}");
        }
        return 0;
    }

    /// <summary>
    /// Seeded comparison of a repaired ACAS Xu network with the original: advisories (argmin) that agree on 1e5 random
    /// points of the ACAS domain, then on 1e5 random points of the property's box the points violating before and after
    /// and the advisories that changed.
    /// </summary>
    private static (int Agree, int ViolBefore, int ViolAfter, int Changed) ScoreAcas(Network original, Func<double[], double[]> repaired, VnnLibCase cs)
    {
        var domain = new InputBox([-0.328422877, -0.5, -0.5, -0.5, -0.5], [0.679857769, 0.5, 0.5, 0.5, 0.5]);
        var rng = new Random(0);
        int agree = 0, violBefore = 0, violAfter = 0, changed = 0;
        for (int s = 0; s < 100_000; s++)
        {
            var x = domain.Sample(rng);
            if (ArgMin(original.Evaluate(x)) == ArgMin(repaired(x))) agree++;
        }
        for (int s = 0; s < 100_000; s++)
        {
            var x = cs.Box.Sample(rng);
            var yb = original.Evaluate(x);
            var ya = repaired(x);
            if (cs.IsUnsafe(yb)) violBefore++;
            if (cs.IsUnsafe(ya)) violAfter++;
            if (ArgMin(yb) != ArgMin(ya)) changed++;
        }
        return (agree, violBefore, violAfter, changed);
    }

    private static int ArgMax(double[] y) { int b = 0; for (int i = 1; i < y.Length; i++) if (y[i] > y[b]) b = i; return b; }
    private static int ArgMin(double[] y) { int b = 0; for (int i = 1; i < y.Length; i++) if (y[i] < y[b]) b = i; return b; }
}
