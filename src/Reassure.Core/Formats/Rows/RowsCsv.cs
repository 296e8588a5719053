using System.Globalization;
using System.Text;
using Reassure.Specifications;

namespace Reassure.Formats.Rows;

/// <summary>
/// The project's rows CSV: one line per row, the model's input values in order, then the integer label (an output
/// index, 0-based) as the last column. Comma separated, numbers in the invariant culture, no quoting; blank lines are
/// skipped. Header (<see cref="RowsHeader"/>): by default (Auto) the first non-blank line is a header only when NONE of
/// its cells parses as a number (e.g. <c>x0,x1,label</c>); a first line with some numeric cells is data, so a typo or a
/// NaN there is an error, not a silently dropped row, and an all-numeric header is data unless Yes is given.
/// Errors (with file, 1-based line and column): RSR1020 wrong number of columns, RSR1021 a cell that is not a finite
/// number (text, NaN, Infinity, overflow), RSR1022 a label that is not a non-negative integer (or, with an output
/// count, not an output of the model), RSR1023 no rows, RSR1001 missing file.
/// </summary>
public static class RowsCsv
{
    /// <summary>Reads labelled rows of <paramref name="inputWidth"/> inputs plus a label.</summary>
    public static RowSet Read(string path, int inputWidth, RowsHeader header = RowsHeader.Auto)
    {
        var lines = ReadLines(path);
        return Parse(lines, inputWidth, Path.GetFileName(path), header);
    }

    /// <summary>
    /// Reads labelled rows and checks every label against the model's <paramref name="outputCount"/> outputs
    /// (<see cref="RowSet.CheckLabels"/>): the read every verb uses.
    /// </summary>
    public static RowSet Read(string path, int inputWidth, int outputCount, RowsHeader header = RowsHeader.Auto) =>
        Read(path, inputWidth, header).CheckLabels(outputCount);

    /// <summary>Parses labelled rows; <paramref name="sourceName"/> names them in messages.</summary>
    public static RowSet Parse(IReadOnlyList<string> lines, int inputWidth, string sourceName, RowsHeader header = RowsHeader.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1);
        var cells = Cells(lines, inputWidth + 1, sourceName, labelled: true, header);
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
        return new RowSet(inputs, labels, sourceName) { Lines = cells.Select(c => c.Line).ToArray() };
    }

    /// <summary>Reads rows of exactly <paramref name="inputWidth"/> inputs and no label.</summary>
    public static double[][] ReadInputs(string path, int inputWidth, RowsHeader header = RowsHeader.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1);
        return Cells(ReadLines(path), inputWidth, Path.GetFileName(path), labelled: false, header).Select(c => c.Values).ToArray();
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

    /// <summary>Whether a cell reads as a number at all (finite or not: NaN, Infinity and overflowing values count).</summary>
    private static bool LooksNumeric(string cell) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>The numeric lines (line number, values) with exactly <paramref name="columns"/> cells each.</summary>
    private static List<(int Line, double[] Values)> Cells(IReadOnlyList<string> lines, int columns, string source, bool labelled, RowsHeader header)
    {
        var rows = new List<(int, double[])>();
        bool first = true;
        bool autoFirst = false;
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.Trim().Length == 0) continue;
            var cells = line.Split(',');
            autoFirst = false;
            if (first)
            {
                first = false;
                if (header == RowsHeader.Yes) continue;
                if (header == RowsHeader.Auto)
                {
                    if (!cells.Any(c => LooksNumeric(c.Trim()))) continue; // header: no cell is a number
                    autoFirst = true;
                }
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
                    throw new ReassureException(ErrorCodes.RowsNotNumeric,
                        $"cell '{text}' is not a finite number; expected a finite number in the invariant culture (e.g. -1.5e-3)"
                        + (autoFirst ? "; the first line has numeric cells so it is data, not a header (a header has no numeric cell, or use --header yes)" : ""),
                        $"{source}, line {i + 1}, column {c + 1}");
            }
            rows.Add((i + 1, values));
        }
        if (rows.Count == 0)
            throw new ReassureException(ErrorCodes.RowsEmpty, $"no data rows; expected at least one row of {columns} numbers", source);
        return rows;
    }
}

/// <summary>Whether the first non-blank line of a rows CSV is a header.</summary>
public enum RowsHeader
{
    /// <summary>A header only when none of its cells parses as a number (default).</summary>
    Auto,
    /// <summary>The first non-blank line is a header, whatever it holds.</summary>
    Yes,
    /// <summary>No header: the first non-blank line is data.</summary>
    No,
}
