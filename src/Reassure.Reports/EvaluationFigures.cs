using Reassure.Formats.Rows;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Reports;

/// <summary>
/// Accuracy per class before and after repair and the output change max_i |f_repaired(x)_i - f(x)_i| per row, on
/// evaluation rows, in double (the engine's evaluators). Rows whose label is not an output are left out of accuracy.
/// </summary>
/// <param name="Source">Where the rows came from.</param>
/// <param name="Rows">Evaluation rows.</param>
/// <param name="PerClass">Rows whose label is class c, <c>[classes]</c>.</param>
/// <param name="CorrectBefore">Of those, predicted right by the original network.</param>
/// <param name="CorrectAfter">Of those, predicted right by the repaired network.</param>
/// <param name="OutputChange">Per row, max over outputs of |f_repaired(x) - f(x)|.</param>
/// <param name="BecameRight">Rows wrong before and right after.</param>
/// <param name="BecameWrong">Rows right before and wrong after.</param>
public sealed record EvaluationFigures(string Source, int Rows, int[] PerClass, int[] CorrectBefore, int[] CorrectAfter, double[] OutputChange,
    int BecameRight, int BecameWrong)
{
    /// <summary>Rows with a label that is an output (the accuracy denominator).</summary>
    public int Labelled => PerClass.Sum();

    /// <summary>Rows whose repaired output is bit-identical to the original's (change exactly 0).</summary>
    public int Unchanged => OutputChange.Count(d => d == 0);

    /// <summary>Overall accuracy before repair (NaN without labelled rows).</summary>
    public double AccuracyBefore => Ratio(CorrectBefore.Sum(), Labelled);

    /// <summary>Overall accuracy after repair (NaN without labelled rows).</summary>
    public double AccuracyAfter => Ratio(CorrectAfter.Sum(), Labelled);

    /// <summary>Accuracy of class c before repair (NaN without rows of c).</summary>
    public double ClassBefore(int c) => Ratio(CorrectBefore[c], PerClass[c]);

    /// <summary>Accuracy of class c after repair (NaN without rows of c).</summary>
    public double ClassAfter(int c) => Ratio(CorrectAfter[c], PerClass[c]);

    /// <summary>Evaluates <paramref name="network"/> and its original on <paramref name="rows"/>.</summary>
    public static EvaluationFigures Compute(RepairedNetwork network, RowSet rows, bool argMin = false)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(rows);
        int m = network.Original.OutputSize;
        var before = network.Original.EvaluateBatch(rows.Inputs);
        var after = network.EvaluateBatch(rows.Inputs);
        var perClass = new int[m];
        var right0 = new int[m];
        var right1 = new int[m];
        var change = new double[rows.Count];
        int becameRight = 0, becameWrong = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            double d = 0;
            for (int o = 0; o < m; o++) d = Math.Max(d, Math.Abs(after[r][o] - before[r][o]));
            change[r] = d;
            int c = rows.Labels[r];
            if (c < 0 || c >= m) continue;
            perClass[c]++;
            bool ok0 = Prediction.Of(before[r], argMin) == c, ok1 = Prediction.Of(after[r], argMin) == c;
            if (ok0) right0[c]++;
            if (ok1) right1[c]++;
            if (!ok0 && ok1) becameRight++;
            if (ok0 && !ok1) becameWrong++;
        }
        return new EvaluationFigures(rows.Source, rows.Count, perClass, right0, right1, change, becameRight, becameWrong);
    }

    private static double Ratio(int a, int b) => b == 0 ? double.NaN : (double)a / b;
}
