using System.Globalization;
using System.Net;

namespace Reassure.Reports;

/// <summary>HTML text helpers: every string that may come from a file goes through <see cref="Text"/>.</summary>
internal static class Html
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>HTML-escapes <paramref name="s"/> (&lt; &gt; &amp; " ').</summary>
    public static string Text(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static string Number(double v, string format = "G4") => double.IsNaN(v) ? "n/a" : v.ToString(format, Inv);

    public static string Number(int v) => v.ToString(Inv);

    public static string Percent(double v) => double.IsNaN(v) ? "n/a" : (100 * v).ToString("0.00", Inv) + " %";

    public static string Seconds(double s) => s.ToString("0.000", Inv) + " s";
}
