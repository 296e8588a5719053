namespace Reassure.Repair;

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
