namespace Reassure.Formats.Rows;

/// <summary>Rows of model inputs with an integer label each (the project's rows CSV, see <see cref="RowsCsv"/>).</summary>
/// <param name="Inputs">One input vector per row, <c>[rows][n]</c>.</param>
/// <param name="Labels">One label (an output index) per row, <c>[rows]</c>.</param>
/// <param name="Source">The file the rows came from.</param>
public sealed record RowSet(double[][] Inputs, int[] Labels, string Source)
{
    /// <summary>Number of rows.</summary>
    public int Count => Inputs.Length;
}
