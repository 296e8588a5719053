using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Reports;

/// <summary>What a <see cref="RepairReport"/> shows beside the engine's result.</summary>
public sealed record RepairReportOptions
{
    /// <summary>Heading of the page (default "Reassure repair report" plus the model's file name).</summary>
    public string? Title { get; init; }

    /// <summary>The model that was repaired (a path or a file name; the report shows the file name).</summary>
    public string? Model { get; init; }

    /// <summary>
    /// Rows (inputs and labels) on which accuracy per class before and after repair and the output change are computed,
    /// in double with the engine's evaluators; null: no evaluation section.
    /// </summary>
    public RowSet? Evaluation { get; init; }

    /// <summary>The label is the output with the smallest score (ACAS Xu) instead of the largest.</summary>
    public bool ArgMin { get; init; }

    /// <summary>Lines shown under the heading (settings, the command line, ...).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
