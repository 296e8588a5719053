using System.Globalization;
using System.Text.RegularExpressions;
using Reassure.Formats.Rows;
using Reassure.Patching;
using Reassure.Specifications;

namespace Reassure.Reports.Tests;

/// <summary>Checks shared by the report tests, each computed here independently of the report's code.</summary>
internal static partial class HtmlAssert
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Count(string html, string what) => Regex.Matches(html, Regex.Escape(what)).Count;

    /// <summary>Self-contained: no script, no stylesheet link, no external source, no import; every SVG id unique.</summary>
    public static void SelfContained(string html)
    {
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" src=\"", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(http", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=\"http", html, StringComparison.OrdinalIgnoreCase);
        var ids = Ids().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.AreEqual(ids.Count, ids.Distinct().Count(), "every id in the page is unique (SVGs share one id space)");
        foreach (Match m in UrlRefs().Matches(html)) CollectionAssert.Contains(ids, m.Groups[1].Value, "url(#id) refers to an id of the page");
    }

    /// <summary>Per-class accuracy rows as the test computes them, and the exact-zero count of the output change.</summary>
    public static (int Zero, int Correct0, int Correct1, int Labelled) Evaluation(string html, RepairedNetwork network, RowSet rows)
    {
        int m = network.Original.OutputSize;
        var n = new int[m];
        var r0 = new int[m];
        var r1 = new int[m];
        int zero = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            var before = network.Original.Evaluate(rows.Inputs[r]);
            var after = network.Evaluate(rows.Inputs[r]);
            if (before.Zip(after).All(t => BitConverter.DoubleToInt64Bits(t.First) == BitConverter.DoubleToInt64Bits(t.Second))) zero++;
            int c = rows.Labels[r];
            n[c]++;
            if (Tiny.ArgMax(before) == c) r0[c]++;
            if (Tiny.ArgMax(after) == c) r1[c]++;
        }
        for (int c = 0; c < m; c++)
        {
            string row = $"<tr><td class=\"n\">{c}</td><td class=\"n\">{n[c]}</td><td class=\"n\">{r0[c]}</td><td class=\"n\">{Percent(r0[c], n[c])}</td>"
                + $"<td class=\"n\">{r1[c]}</td><td class=\"n\">{Percent(r1[c], n[c])}</td></tr>";
            Assert.Contains(row, html, $"class {c}");
        }
        Assert.Contains($"<b>{zero} of {rows.Count}</b> rows have an output change of exactly 0", html);
        Assert.Contains($"<tr><td>exactly 0</td><td class=\"n\">{zero}</td></tr>", html);
        Assert.Contains($"{Percent(r0.Sum(), n.Sum())} &rarr; {Percent(r1.Sum(), n.Sum())}", html);
        return (zero, r0.Sum(), r1.Sum(), n.Sum());
    }

    public static string Percent(int a, int b) => b == 0 ? "n/a" : (100.0 * a / b).ToString("0.00", Inv) + " %";

    [GeneratedRegex("\\bid=\"([^\"]+)\"")]
    private static partial Regex Ids();

    [GeneratedRegex("url\\(#([^)]+)\\)")]
    private static partial Regex UrlRefs();
}
