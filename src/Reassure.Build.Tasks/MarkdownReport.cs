using System.Globalization;
using System.Text;
using Reassure.Repair;

namespace Reassure.Build.Tasks;

/// <summary>The Markdown report beside the repaired model: totals, accuracy before/after, patches, time.</summary>
internal static class MarkdownReport
{
    public static string Build(string model, RepairResult? result, GateFigures gate, GateSettings settings, RowsFile? buggy, RowsFile? regression)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(inv, $"# Reassure repair report: {Path.GetFileName(model)}\n\n");
        md.Append(inv, $"Gate: **{(gate.Passed ? "passed" : "FAILED")}**\n\n");
        md.Append("| | |\n|---|---|\n");
        md.Append(inv, $"| buggy rows | {gate.BuggyRows}{(buggy is null ? "" : $" ({Path.GetFileName(buggy.Path)})")} |\n");
        md.Append(inv, $"| fixed | {gate.FixedRows}/{gate.BuggyRows} |\n");
        if (gate.AlreadyCorrect > 0) md.Append(inv, $"| already correct before repair | {gate.AlreadyCorrect} |\n");
        md.Append(inv, $"| patches | {result?.Patches.Count ?? 0} |\n");
        md.Append(inv, $"| mode | {settings.Mode.ToString().ToLowerInvariant()} |\n");
        md.Append(inv, $"| repair time | {Seconds(result?.Timings.Total ?? TimeSpan.Zero)} |\n");
        md.Append(inv, $"| linear programs | {result?.Timings.LinearPrograms ?? 0} |\n");
        if (regression is null)
        {
            md.Append("| regression rows | none (accuracy and locality not checked) |\n");
        }
        else
        {
            md.Append(inv, $"| regression rows | {gate.RegressionRows} ({Path.GetFileName(regression.Path)}) |\n");
            md.Append(inv, $"| accuracy before | {Accuracy.Percent(gate.AccuracyBefore)} ({gate.CorrectBefore}/{gate.RegressionRows}) |\n");
            md.Append(inv, $"| accuracy after | {Accuracy.Percent(gate.AccuracyAfter)} ({gate.CorrectAfter}/{gate.RegressionRows}) |\n");
            md.Append(inv, $"| required accuracy | {Accuracy.Percent(Math.Max(gate.RequiredAccuracy, 0))} (max drop {settings.MaxAccuracyDrop.ToString("0.###", inv)} pp{(settings.MinAccuracy is double f ? $", floor {Accuracy.Percent(f)}" : "")}) |\n");
            md.Append(inv, $"| rows outside every support | {gate.OutsideSupports}, changed: {gate.LocalityViolations} |\n");
        }
        if (result is not null && result.Patches.Count > 0)
        {
            md.Append("\n## Patches\n\n| # | region | gamma | norm | rows | verified |\n|---|---|---|---|---|---|\n");
            foreach (var p in result.Patches)
            {
                var rows = string.Join(", ", p.Inputs.Select(i => result.Inputs[i].Id ?? i.ToString(inv)));
                md.Append(inv, $"| {p.Index} | `{p.PatternHash}` | {p.Gamma:G4} | {p.Norm:G4} | {rows} | {(p.Verified ? "yes" : "no")} |\n");
            }
        }
        if (result is not null)
        {
            var unfixed = result.Unfixed;
            if (unfixed.Count > 0)
            {
                md.Append("\n## Not fixed\n\n");
                foreach (var s in unfixed) md.Append(inv, $"- {s.Id}: {s.ErrorCode} {s.Message}\n");
            }
            var t = result.Timings;
            md.Append(inv, $"\n## Time\n\nregions {Seconds(t.Regions)}, patches {Seconds(t.Patches)}, soundness {Seconds(t.Soundness)}, verify {Seconds(t.Verify)}, total {Seconds(t.Total)}\n");
        }
        return md.ToString();
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";
}
