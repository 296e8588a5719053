using System.Globalization;
using System.Net;

namespace Reassure.Reports;

/// <summary>HTML text helpers: every string that may come from a file goes through <see cref="Text"/>.</summary>
internal static class Html
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>HTML-escapes <paramref name="s"/> (&lt; &gt; &amp; " ').</summary>
    public static string Text(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>Four significant digits; very large or small magnitudes as 1.5e8, 2e-5.</summary>
    public static string Number(double v)
    {
        if (double.IsNaN(v)) return "n/a";
        double a = Math.Abs(v);
        return a != 0 && double.IsFinite(a) && (a >= 1e5 || a < 1e-3) ? v.ToString("0.###e0", Inv) : v.ToString("G4", Inv);
    }

    public static string Number(int v) => v.ToString(Inv);

    public static string Percent(double v) => double.IsNaN(v) ? "n/a" : (100 * v).ToString("0.00", Inv) + " %";

    public static string Seconds(double s) => s.ToString("0.000", Inv) + " s";
}
