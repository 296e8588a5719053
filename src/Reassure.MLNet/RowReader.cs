using Microsoft.ML;
using Microsoft.ML.Data;

namespace Reassure.MLNet;

/// <summary>The rows of an IDataView as the engine reads them: feature vectors in double, class indices, buggy marks.</summary>
internal static class RowReader
{
    /// <summary>
    /// Reads every row: the feature vector <c>[n]</c> (sparse slots 0), the label as a class index (-1 when missing;
    /// <see cref="LabelMap"/>), and the Boolean buggy mark when <paramref name="buggyCol"/> is given (false otherwise).
    /// </summary>
    public static (List<double[]> Rows, List<long> Classes, List<bool> Marked) Read(IDataView data, DataViewSchema.Column featureCol,
        DataViewSchema.Column labelCol, LabelMap labels, DataViewSchema.Column? buggyCol, int n, CancellationToken ct = default)
    {
        var rows = new List<double[]>();
        var classes = new List<long>();
        var marked = new List<bool>();
        var needed = buggyCol is null ? new[] { featureCol, labelCol } : [featureCol, labelCol, buggyCol.Value];
        using var cursor = data.GetRowCursor(needed);
        var features = cursor.GetGetter<VBuffer<float>>(featureCol);
        var label = labels.Reader(cursor);
        ValueGetter<bool>? buggy = buggyCol is null ? null : cursor.GetGetter<bool>(buggyCol.Value);
        VBuffer<float> buffer = default;
        bool mark = false;
        while (cursor.MoveNext())
        {
            ct.ThrowIfCancellationRequested();
            features(ref buffer);
            var x = new double[n];
            foreach (var (i, v) in buffer.Items()) x[i] = v;
            rows.Add(x);
            classes.Add(label());
            buggy?.Invoke(ref mark);
            marked.Add(mark);
        }
        return (rows, classes, marked);
    }

    /// <summary>The class indices as ints; RSR1022 naming the row when one is not an output of the model (0..outputs-1).</summary>
    public static int[] ValidClasses(IReadOnlyList<long> classes, int outputs, string labelColumn)
    {
        var result = new int[classes.Count];
        for (int r = 0; r < classes.Count; r++)
        {
            if (classes[r] < 0 || classes[r] >= outputs)
                throw new ReassureException(ErrorCodes.RowsBadLabel, $"label column '{labelColumn}' gives class {classes[r]}; expected 0..{outputs - 1}",
                    $"row {r.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            result[r] = (int)classes[r];
        }
        return result;
    }
}
