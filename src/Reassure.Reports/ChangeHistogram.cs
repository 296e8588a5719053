namespace Reassure.Reports;

/// <summary>
/// Histogram of output changes on a log scale: one bin for the rows whose change is exactly 0 (bit-identical outputs),
/// then one bin per decade [10^k, 10^(k+1)) from the smallest non-zero change to the largest.
/// </summary>
/// <param name="Zero">Rows whose change is exactly 0.</param>
/// <param name="FirstDecade">k of the first decade bin.</param>
/// <param name="Decades">Rows per decade bin, from <paramref name="FirstDecade"/> up.</param>
internal sealed record ChangeHistogram(int Zero, int FirstDecade, int[] Decades)
{
    public static ChangeHistogram Of(IReadOnlyList<double> changes)
    {
        int zero = changes.Count(d => d == 0);
        var nonZero = changes.Where(d => d > 0 && double.IsFinite(d)).ToList();
        if (nonZero.Count == 0) return new ChangeHistogram(zero, 0, []);
        int lo = Decade(nonZero.Min()), hi = Decade(nonZero.Max());
        var bins = new int[hi - lo + 1];
        foreach (var d in nonZero) bins[Decade(d) - lo]++;
        return new ChangeHistogram(zero, lo, bins);
    }

    /// <summary>Label of decade bin i, e.g. "1e-3".</summary>
    public string Label(int i) => "1e" + (FirstDecade + i).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static int Decade(double d) => (int)Math.Floor(Math.Log10(d));
}
