using System.Diagnostics;
using System.Globalization;
using System.Text;
using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Verification;

namespace Reassure.Benchmarks;

/// <summary>
/// <c>verify-table [--categories acasxu,mnistfc] [--factor 1] [--markdown FILE]</c> (issue 21): every staged VNN-COMP
/// instance of the categories (their expected-results.csv, so it needs <c>--data</c> pointing at the staged set) verified
/// with its VNN-COMP timeout times the factor; per instance the verdict, the expected one and the seconds; then one table
/// per category beside the anchor figures (VNN-COMP results of alpha-beta-CROWN and nnenum, and main before issue 21)
/// and the issue's targets. With <c>--markdown</c> the table is also written as Markdown for docs/performance.md.
/// </summary>
internal static class VerifyTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Anchor figures quoted in issue 21 (VNN-COMP 2021/2022 results; main before the issue on this machine).</summary>
    private static readonly Dictionary<string, (string Field, string Before, string Target, double PerInstanceTarget)> Anchors = new()
    {
        ["acasxu"] = ("alpha-beta-CROWN, nnenum: 186/186 decided, median 0.2-1.5 s (VNN-COMP)",
            "21/22 decided, N3_3 prop_2 unknown at 116 s", "all decided within 116 s, 0 wrong, median <= 1 s", 116),
        ["mnistfc"] = ("alpha-beta-CROWN: 30/30 of mnistfc 256x2, median 3.5 s (2021), 0.5 s (2022)",
            "3/5 decided, prop_0_0.03 and prop_0_0.05 unknown at 120 s", "all decided, 0 wrong, <= 10 s each", 10),
    };

    private sealed record Row(string Category, string Net, string Prop, string Expected, string Got, double Seconds, int Boxes, int Lps, string Detail);

    public static int Run(string[] args)
    {
        var categories = BenchmarkArgs.Option(args, "--categories", "acasxu,mnistfc").Split(',');
        double factor = double.Parse(BenchmarkArgs.Option(args, "--factor", "1"), Inv);
        string? markdown = BenchmarkArgs.Option(args, "--markdown", "");
        string only = BenchmarkArgs.Option(args, "--only", ""); // substring of "net prop", to rerun some instances
        string loadBefore = LoadAverage();
        var started = DateTime.UtcNow;
        Console.WriteLine($"verify-table {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load before {loadBefore}, timeout factor {factor}");
        var rows = new List<Row>();
        foreach (var category in categories)
        {
            foreach (var line in File.ReadAllLines(SharedData.File("vnncomp", category, "expected-results.csv")).Skip(1))
            {
                var f = line.Split(',');
                if (only.Length > 0 && !$"{Path.GetFileNameWithoutExtension(f[1])} {Path.GetFileNameWithoutExtension(f[2])}".Contains(only, StringComparison.Ordinal)) continue;
                var net = OnnxImporter.Load(SharedData.Listed(f[1])).Network;
                var prop = VnnLibReader.Read(SharedData.Listed(f[2]));
                double timeout = double.Parse(f[3], Inv) * factor;
                var clock = Stopwatch.StartNew();
                var r = PropertyVerifier.Verify(net, prop, new VerificationOptions { MaxTime = TimeSpan.FromSeconds(timeout) });
                double s = clock.Elapsed.TotalSeconds;
                var row = new Row(category, Path.GetFileNameWithoutExtension(f[1]), Path.GetFileNameWithoutExtension(f[2]), f[4], r.StatusText, s, r.Boxes, r.LinearPrograms,
                    r.Status == VerificationStatus.Unknown ? r.Detail : r.StatusText == f[4] ? "" : "WRONG");
                rows.Add(row);
                Console.WriteLine($"{row.Net,-30} {row.Prop,-14} expected {row.Expected,-8} got {row.Got,-8} {s,7:F2} s  boxes {r.Boxes,7}  LPs {r.LinearPrograms,6}  {row.Detail}");
            }
        }
        string loadAfter = LoadAverage();
        var md = new StringBuilder();
        md.AppendLine(Inv, $"Run of {started:yyyy-MM-dd HH:mm} UTC ({Environment.ProcessorCount} cores; load average before {loadBefore}, after {loadAfter}; timeout factor {factor}):");
        md.AppendLine();
        md.AppendLine("| category | decided | wrong | median s | max s | anchor (VNN-COMP) | main before issue 21 | target |");
        md.AppendLine("|---|---:|---:|---:|---:|---|---|---|");
        bool allMet = true;
        foreach (var category in categories)
        {
            var rs = rows.Where(r => r.Category == category).ToList();
            int decided = rs.Count(r => r.Got != "unknown"), wrong = rs.Count(r => r.Got != "unknown" && r.Got != r.Expected);
            var times = rs.Select(r => r.Seconds).Order().ToArray();
            double median = times.Length == 0 ? 0 : times.Length % 2 == 1 ? times[times.Length / 2] : 0.5 * (times[times.Length / 2 - 1] + times[times.Length / 2]);
            var a = Anchors.TryGetValue(category, out var x) ? x : ("-", "-", "-", double.PositiveInfinity);
            bool met = decided == rs.Count && wrong == 0 && times.All(t => t <= a.Item4) && (category != "acasxu" || median <= 1);
            allMet &= met;
            md.AppendLine(Inv, $"| {category} | {decided}/{rs.Count} | {wrong} | {median:F2} | {(times.Length == 0 ? 0 : times[^1]):F2} | {a.Item1} | {a.Item2} | {a.Item3}: {(met ? "met" : "NOT met")} |");
        }
        md.AppendLine();
        md.AppendLine("| instance | expected | got | seconds | boxes | LPs |");
        md.AppendLine("|---|---|---|---:|---:|---:|");
        foreach (var r in rows)
            md.AppendLine(Inv, $"| {r.Net} {r.Prop} | {r.Expected} | {r.Got}{(r.Detail.Length > 0 && r.Got != "unknown" ? " (WRONG)" : "")} | {r.Seconds:F2} | {r.Boxes} | {r.Lps} |");
        Console.WriteLine();
        Console.Write(md.ToString());
        if (!string.IsNullOrEmpty(markdown)) File.WriteAllText(markdown, md.ToString());
        return rows.Any(r => r.Got != "unknown" && r.Got != r.Expected) ? 1 : allMet ? 0 : 3;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
