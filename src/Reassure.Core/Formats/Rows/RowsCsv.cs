using System.Globalization;
using System.Text;

namespace Reassure.Formats.Rows;

/// <summary>
/// The project's rows CSV: one line per row, the model's input values in order, then the integer label (an output
/// index, 0-based) as the last column. Comma separated, numbers in the invariant culture, no quoting. The first
/// non-blank line is a header when its cells are not all numbers; blank lines are skipped.
/// Errors (with file, 1-based line and column): RSR1020 wrong number of columns, RSR1021 a cell that is not a finite
/// number, RSR1022 a label that is not a non-negative integer, RSR1023 no rows, RSR1001 missing file.
/// </summary>
public static class RowsCsv
{
    /// <summary>Reads labelled rows of <paramref name="inputWidth"/> inputs plus a label.</summary>
    public static RowSet Read(string path, int inputWidth)
    {
        var lines = ReadLines(path);
        return Parse(lines, inputWidth, Path.GetFileName(path));
    }

    /// <summary>Parses labelled rows; <paramref name="sourceName"/> names them in messages.</summary>
    public static RowSet Parse(IReadOnlyList<string> lines, int inputWidth, string sourceName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1);
        var cells = Cells(lines, inputWidth + 1, sourceName, labelled: true);
        var inputs = new double[cells.Count][];
        var labels = new int[cells.Count];
        for (int r = 0; r < cells.Count; r++)
        {
            var (lineNo, values) = cells[r];
            inputs[r] = values[..inputWidth];
            double label = values[inputWidth];
            if (label < 0 || label != Math.Floor(label) || label > int.MaxValue)
                throw new ReassureException(ErrorCodes.RowsBadLabel,
                    $"label '{label.ToString("R", CultureInfo.InvariantCulture)}' is not a non-negative integer; expected an output index 0, 1, 2, ...",
                    $"{sourceName}, line {lineNo}, column {inputWidth + 1}");
            labels[r] = (int)label;
        }
        return new RowSet(inputs, labels, sourceName);
    }

    /// <summary>Reads rows of exactly <paramref name="inputWidth"/> inputs and no label.</summary>
    public static double[][] ReadInputs(string path, int inputWidth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1);
        return Cells(ReadLines(path), inputWidth, Path.GetFileName(path), labelled: false).Select(c => c.Values).ToArray();
    }

    /// <summary>Writes rows (header <c>x0,...,x{n-1},label</c>, round-trip number format) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, RowSet rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Inputs.Length != rows.Labels.Length) throw new ArgumentException("Inputs and labels differ in count.", nameof(rows));
        int width = rows.Inputs.Length == 0 ? 0 : rows.Inputs[0].Length;
        var sb = new StringBuilder();
        for (int i = 0; i < width; i++) sb.Append('x').Append(i.ToString(CultureInfo.InvariantCulture)).Append(',');
        sb.Append("label\n");
        for (int r = 0; r < rows.Inputs.Length; r++)
        {
            if (rows.Inputs[r].Length != width) throw new ArgumentException($"Row {r} has {rows.Inputs[r].Length} inputs, row 0 has {width}.", nameof(rows));
            foreach (var v in rows.Inputs[r]) sb.Append(v.ToString("R", CultureInfo.InvariantCulture)).Append(',');
            sb.Append(rows.Labels[r].ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string[] ReadLines(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReassureException(ErrorCodes.FileUnreadable, $"cannot read the rows file: {e.Message}", path, e);
        }
    }

    private static bool TryNumber(string cell, out double value) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>The numeric lines (line number, values) with exactly <paramref name="columns"/> cells each.</summary>
    private static List<(int Line, double[] Values)> Cells(IReadOnlyList<string> lines, int columns, string source, bool labelled)
    {
        var rows = new List<(int, double[])>();
        bool first = true;
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0) continue;
            var cells = line.Split(',');
            if (first)
            {
                first = false;
                if (!cells.All(c => TryNumber(c.Trim(), out _))) continue; // header
            }
            if (cells.Length != columns)
                throw new ReassureException(ErrorCodes.RowsWrongWidth,
                    $"found {cells.Length} columns; expected {columns} ({(labelled ? columns - 1 : columns)} input values{(labelled ? " and a label" : "")})",
                    $"{source}, line {i + 1}");
            var values = new double[columns];
            for (int c = 0; c < columns; c++)
            {
                var text = cells[c].Trim();
                if (!TryNumber(text, out values[c]))
                    throw new ReassureException(ErrorCodes.RowsNotNumeric, $"cell '{text}' is not a finite number", $"{source}, line {i + 1}, column {c + 1}");
            }
            rows.Add((i + 1, values));
        }
        if (rows.Count == 0)
            throw new ReassureException(ErrorCodes.RowsEmpty, $"no data rows; expected at least one row of {columns} numbers", source);
        return rows;
    }
}
