namespace Reassure.Specifications;

/// <summary>
/// An output specification ql &lt;= P y &lt;= qu on one input (method.md §2). P is k x m with full row rank, k &lt;= m.
/// </summary>
public abstract record Specification
{
    /// <summary>The general linear form for a network with <paramref name="outputs"/> outputs.</summary>
    public abstract LinearSpecification ToLinear(int outputs);

    /// <summary>
    /// How far a float32 evaluation may fall short of the specification's slack and still count as meeting it:
    /// for classification the margin (the label must still win strictly), else 0.
    /// </summary>
    public virtual double Float32Tolerance => 0;

    /// <summary>Whether a float32 output meets the specification within <see cref="Float32Tolerance"/>.</summary>
    public bool IsMetInFloat32(ReadOnlySpan<double> y)
    {
        double slack = ToLinear(y.Length).Slack(y);
        return Float32Tolerance > 0 ? slack + Float32Tolerance > 0 : slack >= 0;
    }

    /// <summary>Whether y meets the specification (with no tolerance).</summary>
    public bool IsMetBy(ReadOnlySpan<double> y) => ToLinear(y.Length).Slack(y) >= 0;
}

/// <summary>
/// Classification: y_i - y_t &lt;= -margin for every i != t (method.md §2), i.e. label t wins by at least margin.
/// For <see cref="ArgMin"/> outputs (ACAS Xu advisories) the rows are y_t - y_i &lt;= -margin.
/// </summary>
/// <param name="Label">The required label t.</param>
/// <param name="Margin">The margin (> 0 keeps the repair sound after float32 rounding).</param>
/// <param name="ArgMin">Whether the predicted label is the argmin of the outputs instead of the argmax.</param>
public sealed record ClassificationSpecification(int Label, double Margin = 1e-3, bool ArgMin = false) : Specification
{
    /// <inheritdoc />
    public override double Float32Tolerance => Margin;

    /// <inheritdoc />
    public override LinearSpecification ToLinear(int outputs)
    {
        if (Label < 0 || Label >= outputs)
            throw new ReassureException(ErrorCodes.BadSpecification, $"Label {Label} is not an output index of a network with {outputs} outputs (expected 0..{outputs - 1}).");
        if (!double.IsFinite(Margin) || Margin < 0)
            throw new ReassureException(ErrorCodes.BadSpecification, $"Margin {Margin.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} is not a finite number >= 0 (the label must win by it; > 0 keeps it winning after float32 rounding).");
        var p = new double[outputs - 1, outputs];
        var lo = new double[outputs - 1];
        var hi = new double[outputs - 1];
        int r = 0;
        for (int i = 0; i < outputs; i++)
        {
            if (i == Label) continue;
            double sign = ArgMin ? -1 : 1;
            p[r, i] = sign;
            p[r, Label] = -sign;
            lo[r] = double.NegativeInfinity;
            hi[r] = -Margin;
            r++;
        }
        return new LinearSpecification(p, lo, hi);
    }
}

/// <summary>The general form ql &lt;= P y &lt;= qu (method.md §2). Infinite bounds are allowed on one side.</summary>
public sealed record LinearSpecification(double[,] P, double[] Lower, double[] Upper) : Specification
{
    /// <summary>Number of rows k.</summary>
    public int Rows => P.GetLength(0);

    /// <summary>Number of outputs m.</summary>
    public int Outputs => P.GetLength(1);

    /// <inheritdoc />
    public override LinearSpecification ToLinear(int outputs)
    {
        if (outputs != Outputs)
            throw new ReassureException(ErrorCodes.BadSpecification, $"The specification has {Outputs} output columns but the network has {outputs} outputs.");
        return this;
    }

    /// <summary>Row r of P y.</summary>
    public double Row(int r, ReadOnlySpan<double> y)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += P[r, i] * y[i];
        return s;
    }

    /// <summary>The smallest slack min_r min(P_r y - ql_r, qu_r - P_r y); >= 0 when met.</summary>
    public double Slack(ReadOnlySpan<double> y)
    {
        double slack = double.PositiveInfinity;
        for (int r = 0; r < Rows; r++)
        {
            double v = Row(r, y);
            slack = Math.Min(slack, Math.Min(v - Lower[r], Upper[r] - v));
        }
        return slack;
    }

    /// <summary>
    /// Both specifications at once: the rows of <paramref name="a"/>, then those of <paramref name="b"/> whose P row is
    /// not already there; rows with the same P take the tighter bounds. Null when the result is not a specification
    /// the patchers accept (an empty interval, more rows than outputs, or P without full row rank, e.g. two
    /// classification specifications with different labels).
    /// </summary>
    public static LinearSpecification? Merge(LinearSpecification a, LinearSpecification b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Outputs != b.Outputs) return null;
        int m = a.Outputs;
        var rows = new List<double[]>();
        var lower = new List<double>();
        var upper = new List<double>();
        void Add(LinearSpecification s, int r)
        {
            var row = Enumerable.Range(0, m).Select(i => s.P[r, i]).ToArray();
            int same = rows.FindIndex(x => x.AsSpan().SequenceEqual(row));
            if (same < 0) { rows.Add(row); lower.Add(s.Lower[r]); upper.Add(s.Upper[r]); return; }
            lower[same] = Math.Max(lower[same], s.Lower[r]);
            upper[same] = Math.Min(upper[same], s.Upper[r]);
        }
        for (int r = 0; r < a.Rows; r++) Add(a, r);
        for (int r = 0; r < b.Rows; r++) Add(b, r);
        if (rows.Count > m) return null;
        for (int r = 0; r < rows.Count; r++) if (!(lower[r] <= upper[r])) return null;
        if (Rank(rows, m) < rows.Count) return null;
        var p = new double[rows.Count, m];
        for (int r = 0; r < rows.Count; r++) for (int i = 0; i < m; i++) p[r, i] = rows[r][i];
        return new LinearSpecification(p, [.. lower], [.. upper]);
    }

    /// <summary>Row rank by Gaussian elimination with partial pivoting (relative tolerance 1e-9).</summary>
    private static int Rank(List<double[]> rows, int m)
    {
        var a = rows.Select(r => (double[])r.Clone()).ToArray();
        double scale = a.SelectMany(r => r).Select(Math.Abs).DefaultIfEmpty(0).Max();
        double tol = 1e-9 * Math.Max(scale, 1);
        int rank = 0;
        for (int c = 0; c < m && rank < a.Length; c++)
        {
            int pivot = rank;
            for (int r = rank + 1; r < a.Length; r++) if (Math.Abs(a[r][c]) > Math.Abs(a[pivot][c])) pivot = r;
            if (Math.Abs(a[pivot][c]) <= tol) continue;
            (a[rank], a[pivot]) = (a[pivot], a[rank]);
            for (int r = rank + 1; r < a.Length; r++)
            {
                double f = a[r][c] / a[rank][c];
                for (int k = c; k < m; k++) a[r][k] -= f * a[rank][k];
            }
            rank++;
        }
        return rank;
    }

    /// <summary>Whether two specifications have the same rows and bounds.</summary>
    public bool SameAs(LinearSpecification other)
    {
        if (other.Rows != Rows || other.Outputs != Outputs) return false;
        for (int r = 0; r < Rows; r++)
        {
            if (!Lower[r].Equals(other.Lower[r]) || !Upper[r].Equals(other.Upper[r])) return false;
            for (int i = 0; i < Outputs; i++) if (!P[r, i].Equals(other.P[r, i])) return false;
        }
        return true;
    }
}
