namespace Reassure.Regions;

/// <summary>An explicit affine row a . x &lt;= b over the network input (a split hyperplane or a polytope row).</summary>
/// <param name="A">Normal a, <c>[n]</c>.</param>
/// <param name="B">Offset b.</param>
public sealed record HalfSpace(double[] A, double B)
{
    /// <summary>b - a . x: >= 0 inside.</summary>
    public double Slack(ReadOnlySpan<double> x) => B - Networks.Blas.Dot(A, x);

    /// <summary>
    /// The perpendicular bisector between two points, oriented so that <paramref name="inside"/> is in it:
    /// a = outside - inside, b = a . (inside + outside) / 2.
    /// </summary>
    public static HalfSpace Bisector(ReadOnlySpan<double> inside, ReadOnlySpan<double> outside)
    {
        var a = new double[inside.Length];
        double b = 0;
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = outside[i] - inside[i];
            b += a[i] * 0.5 * (inside[i] + outside[i]);
        }
        return new HalfSpace(a, b);
    }

    /// <summary>The opposite half-space a . x >= b, written -a . x &lt;= -b.</summary>
    public HalfSpace Complement() => new(A.Select(v => -v).ToArray(), -B);
}
