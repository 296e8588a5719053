using System.Text.RegularExpressions;

namespace Reassure.Reports;

/// <summary>
/// Makes an SVG document safe to inline beside others in one HTML page: drops any XML prolog and prefixes every
/// id (and its url(#id) / href="#id" references), since SVGs inlined in one page share one id space and clip paths
/// of one chart would otherwise apply to another. Ids are renumbered in order of appearance (the renderer numbers
/// them from a process-wide counter), so the same chart gives the same text.
/// </summary>
internal static partial class SvgScope
{
    public static string Inline(string svgXml, string prefix)
    {
        int start = svgXml.IndexOf("<svg", StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException("the chart renderer returned no <svg> element");
        var svg = svgXml[start..];
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in IdAttribute().Matches(svg))
            ids.TryAdd(m.Groups[1].Value, prefix + ids.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string New(string id) => ids.TryGetValue(id, out var n) ? n : prefix + id;
        svg = IdAttribute().Replace(svg, m => $"id=\"{New(m.Groups[1].Value)}\"");
        svg = UrlReference().Replace(svg, m => $"url(#{New(m.Groups[1].Value)})");
        svg = HrefReference().Replace(svg, m => $"{m.Groups[1].Value}=\"#{New(m.Groups[2].Value)}\"");
        return svg;
    }

    [GeneratedRegex("\\bid=\"([^\"]+)\"")]
    private static partial Regex IdAttribute();

    [GeneratedRegex("url\\(#([^)]+)\\)")]
    private static partial Regex UrlReference();

    [GeneratedRegex("(href|xlink:href)=\"#([^\"]+)\"")]
    private static partial Regex HrefReference();
}
