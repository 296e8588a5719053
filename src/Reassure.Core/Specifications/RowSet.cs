using System.Globalization;

namespace Reassure.Specifications;

/// <summary>Rows of model inputs with an integer label each (the project's rows CSV, read by Reassure.Formats.Rows.RowsCsv).</summary>
/// <param name="Inputs">One input vector per row, <c>[rows][n]</c>.</param>
/// <param name="Labels">One label (an output index) per row, <c>[rows]</c>.</param>
/// <param name="Source">The file the rows came from.</param>
public sealed record RowSet(double[][] Inputs, int[] Labels, string Source)
{
    /// <summary>Number of rows.</summary>
    public int Count => Inputs.Length;

    /// <summary>The 1-based line of each row in its file, when read from one (null for rows built in memory).</summary>
    public int[]? Lines { get; init; }

    /// <summary>"rows.csv, line 7" (or "rows.csv, row 3" without line numbers), for messages.</summary>
    public string Where(int row) => Lines is null
        ? $"{Source}, row {(row + 1).ToString(CultureInfo.InvariantCulture)}"
        : $"{Source}, line {Lines[row].ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The one label check of every front door: each label must be an output of a model with
    /// <paramref name="outputCount"/> outputs (RSR1022 naming the file, line and label column otherwise).
    /// </summary>
    public RowSet CheckLabels(int outputCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        for (int r = 0; r < Count; r++)
        {
            if (Labels[r] < outputCount) continue;
            int column = Inputs[r].Length + 1;
            throw new ReassureException(ErrorCodes.RowsBadLabel,
                $"label {Labels[r].ToString(CultureInfo.InvariantCulture)} is not an output of the model; expected an output index 0..{(outputCount - 1).ToString(CultureInfo.InvariantCulture)}",
                $"{Where(r)}, column {column.ToString(CultureInfo.InvariantCulture)}");
        }
        return this;
    }
}
