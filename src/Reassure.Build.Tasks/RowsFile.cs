using Reassure.Formats.Rows;

namespace Reassure.Build.Tasks;

/// <summary>
/// Rows read with <see cref="RowsCsv"/>, plus the 1-based line of each row in its file so that gate errors point at
/// the line (RowSet keeps no line numbers). The line rule is RowsCsv's: blank lines are skipped, and the first
/// non-blank line is a header when its cells are not all numbers.
/// </summary>
internal sealed record RowsFile(string Path, RowSet Rows, int[] Lines)
{
    public int Count => Rows.Count;

    /// <summary>"file.csv line 7", for messages.</summary>
    public string Name(int row) => $"{System.IO.Path.GetFileName(Path)} line {Lines[row]}";

    /// <summary>Reads the file; throws <see cref="ReassureException"/> (RSR1001, RSR102x) as RowsCsv does.</summary>
    public static RowsFile Read(string path, int inputWidth)
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
        var rows = RowsCsv.Parse(text, inputWidth, System.IO.Path.GetFileName(path));
        return new RowsFile(path, rows, DataLines(text));
    }

    private static int[] DataLines(string[] text)
    {
        var lines = new List<int>();
        bool first = true;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i].Trim().Length == 0) continue;
            if (first)
            {
                first = false;
                if (!text[i].Split(',').All(c => double.TryParse(c.Trim(), System.Globalization.NumberStyles.Float,
                        System.Globalization.CultureInfo.InvariantCulture, out double v) && double.IsFinite(v))) continue;
            }
            lines.Add(i + 1);
        }
        return lines.ToArray();
    }
}
