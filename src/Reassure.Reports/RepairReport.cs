using Reassure.Formats;
using Reassure.Patching;
using Reassure.Repair;

namespace Reassure.Reports;

/// <summary>
/// The repair report shared by the CLI (<c>--report</c>), the ML.NET estimator (<c>RepairTransformer.Report.SaveHtml</c>)
/// and the MSBuild task (<c>report.html</c> beside <c>report.md</c>): one self-contained HTML page with the rows
/// buggy/fixed, accuracy per class before and after, a histogram of the output change, norm and gamma per patch, time
/// by stage and, for area repair, the regions found and patched and the proof's verdict. Charts are inline SVG; every
/// string that may come from a file is HTML-escaped.
/// </summary>
public sealed class RepairReport
{
    private RepairReport(string title, RepairReportOptions options, IReadOnlyList<ReportRow> rows, IReadOnlyList<ReportPatch> patches,
        IReadOnlyList<ReportStage> stages, AreaSummary? area, EvaluationFigures? evaluation)
    {
        Title = title;
        Options = options;
        Rows = rows;
        Patches = patches;
        Stages = stages;
        Area = area;
        Evaluation = evaluation;
    }

    /// <summary>The page heading.</summary>
    public string Title { get; }

    /// <summary>What the report was asked to show.</summary>
    public RepairReportOptions Options { get; }

    /// <summary>The buggy rows of a point-wise repair (empty for area repair).</summary>
    public IReadOnlyList<ReportRow> Rows { get; }

    /// <summary>The patches in order.</summary>
    public IReadOnlyList<ReportPatch> Patches { get; }

    /// <summary>Wall time by stage; the last is the total.</summary>
    public IReadOnlyList<ReportStage> Stages { get; }

    /// <summary>Regions found and patched and the proof's verdict (area repair only).</summary>
    public AreaSummary? Area { get; }

    /// <summary>Accuracy and output change on the evaluation rows (null without them).</summary>
    public EvaluationFigures? Evaluation { get; }

    /// <summary>Rows fixed (point-wise repair).</summary>
    public int FixedCount => Rows.Count(r => r.Fixed);

    /// <summary>The report of a point-wise repair (<see cref="O:Reassure.Repair.Repairer.Repair"/>).</summary>
    public static RepairReport FromRepair(RepairResult result, RepairReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        options ??= new RepairReportOptions();
        var rows = result.Inputs.Select(RowOf).ToList();
        var patches = result.Patches.Select(p => new ReportPatch(p.Index, p.PatternHash, p.Gamma, p.Norm, p.Inputs.Count, p.Verified)).ToList();
        var t = result.Timings;
        var stages = new List<ReportStage>
        {
            new("regions", t.Regions.TotalSeconds),
            new("patches", t.Patches.TotalSeconds),
            new("soundness", t.Soundness.TotalSeconds),
            new("verify", t.Verify.TotalSeconds),
            new("total", t.Total.TotalSeconds),
        };
        return new RepairReport(TitleOf(options), options, rows, patches, stages, null, Evaluate(result.Network, options));
    }

    /// <summary>The report of an area repair (<see cref="AreaRepairer.Repair"/>).</summary>
    public static RepairReport FromArea(AreaRepairResult result, RepairReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        options ??= new RepairReportOptions();
        var patches = result.Repaired.Patches
            .Select((p, i) => new ReportPatch(i, p.Support.Pattern is null ? "" : p.Region.Pattern.Hash(), p.Support.Gamma, p.Norm, 0, null)).ToList();
        var stages = new List<ReportStage>
        {
            new("search", result.Before.Elapsed.TotalSeconds),
            new("patches", result.PatchSeconds),
            new("re-verify", result.After.Elapsed.TotalSeconds),
            new("total", result.Seconds),
        };
        var area = new AreaSummary(result.Strategy.ToString().ToLowerInvariant(), result.RegionsFound, result.Patched, result.Before.Regions,
            result.Before.StatusText, result.After.StatusText, result.After.Detail, result.Before.Budget ?? result.After.Budget, result.Gamma, result.Errors);
        return new RepairReport(TitleOf(options), options, [], patches, stages, area, Evaluate(result.Repaired, options));
    }

    /// <summary>The self-contained HTML page.</summary>
    public string ToHtml() => ReportHtml.Write(this);

    /// <summary>Writes the HTML page to <paramref name="path"/> atomically.</summary>
    public void SaveHtml(string path) => AtomicFile.WriteAllText(path, ToHtml());

    private static ReportRow RowOf(InputStatus s)
    {
        bool ok = s.Fixed && s.FixedFloat32 != false && s.ErrorCode is null;
        string status = ok ? "fixed"
            : s.Fixed && s.FixedFloat32 == false ? "fixed in double, not in float32"
            : "not fixed";
        return new ReportRow(s.Id ?? s.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), ok, status, s.ErrorCode, s.Patch, s.Message);
    }

    private static string TitleOf(RepairReportOptions o) =>
        o.Title ?? (o.Model is null ? "Reassure repair report" : "Reassure repair report: " + Path.GetFileName(o.Model));

    private static EvaluationFigures? Evaluate(RepairedNetwork network, RepairReportOptions o) =>
        o.Evaluation is null ? null : EvaluationFigures.Compute(network, o.Evaluation, o.ArgMin);
}
