using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Build.Tasks;

/// <summary>
/// Rows read with <see cref="RowsCsv"/>, plus the 1-based line of each row in its file so that gate errors point at
/// the line (the lines RowsCsv records in RowSet.Lines).
/// </summary>
internal sealed record RowsFile(string Path, RowSet Rows, int[] Lines)
{
    public int Count => Rows.Count;

    /// <summary>"file.csv line 7", for messages.</summary>
    public string Name(int row) => $"{System.IO.Path.GetFileName(Path)} line {Lines[row]}";

    /// <summary>
    /// Reads the file and checks its labels against the model's <paramref name="outputCount"/> outputs; throws
    /// <see cref="ReassureException"/> (RSR1001, RSR102x) as RowsCsv and <see cref="RowSet.CheckLabels"/> do.
    /// </summary>
    public static RowsFile Read(string path, int inputWidth, int outputCount)
    {
        string[] text;
        try
        {
            text = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReassureException(ErrorCodes.FileUnreadable, $"cannot read the rows file: {e.Message}", path, e);
        }
        var rows = RowsCsv.Parse(text, inputWidth, System.IO.Path.GetFileName(path)).CheckLabels(outputCount);
        return new RowsFile(path, rows, rows.Lines!);
    }
}
