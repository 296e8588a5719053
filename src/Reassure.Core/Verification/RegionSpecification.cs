using Reassure.Lp;
using Reassure.Specifications;

namespace Reassure.Verification;

/// <summary>The convex specification an area repair or certificate uses on one linear region.</summary>
public static class RegionSpecification
{
    /// <summary>The per-region convex specification of an area repair (method.md, area repair; AreaRepairer's class summary): for each unsafe conjunction of the case, the row whose violation needs the least output change over the region, negated with the margin; rows with the same direction keep the tighter bound.</summary>
    public static LinearSpecification Choose(VnnLibCase cs, RegionLp lp, int outputs, double margin, CancellationToken ct = default)
    {
        var rows = new List<(double[] P, double Upper)>();
        foreach (var conj in cs.Unsafe)
        {
            double best = double.PositiveInfinity;
            OutputConstraint? chosen = null;
            foreach (var row in conj.Constraints)
            {
                // need = max over the region of (b + margin - a . y) = b + margin + max(-a . y)
                var w = row.A.Select(v => -v).ToArray();
                double need = row.B + margin + lp.MaximizeOutput(w, ct).Value;
                if (need < best) { best = need; chosen = row; }
            }
            if (chosen is null) throw new ReassureException(ErrorCodes.BadSpecification, "an unsafe conjunction without rows covers every output; no repair can avoid it");
            var p = chosen.A.Select(v => -v).ToArray();
            double upper = -chosen.B - margin;
            int same = rows.FindIndex(r => r.P.AsSpan().SequenceEqual(p));
            if (same >= 0) rows[same] = (p, Math.Min(rows[same].Upper, upper));
            else rows.Add((p, upper));
        }
        var pm = new double[rows.Count, outputs];
        for (int r = 0; r < rows.Count; r++) for (int i = 0; i < outputs; i++) pm[r, i] = rows[r].P[i];
        return new LinearSpecification(pm, Enumerable.Repeat(double.NegativeInfinity, rows.Count).ToArray(), rows.Select(r => r.Upper).ToArray());
    }
}
