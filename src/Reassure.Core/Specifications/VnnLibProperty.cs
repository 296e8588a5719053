using Reassure.Networks;

namespace Reassure.Specifications;

/// <summary>One linear constraint a . y &lt;= b on the network output (a is <c>[m]</c>).</summary>
/// <param name="A">Coefficients a, <c>[m]</c>.</param>
/// <param name="B">Bound b.</param>
public sealed record OutputConstraint(double[] A, double B)
{
    /// <summary>
    /// Whether the constraint only compares two outputs, c (y_i - y_j) &lt;= 0 with c > 0: a decision a trailing Softmax or
    /// LogSoftmax leaves unchanged (both keep the order of the scores).
    /// </summary>
    public bool ComparesTwoOutputs
    {
        get
        {
            if (B != 0) return false;
            int pos = -1, neg = -1;
            for (int i = 0; i < A.Length; i++)
            {
                if (A[i] == 0) continue;
                if (A[i] > 0 && pos < 0) pos = i;
                else if (A[i] < 0 && neg < 0) neg = i;
                else return false;
            }
            return pos >= 0 && neg >= 0 && A[pos] == -A[neg];
        }
    }

    /// <summary>b - a . y: >= 0 when the constraint is met (ties count as met, VNN-LIB comparisons are non-strict).</summary>
    public double Slack(ReadOnlySpan<double> y)
    {
        double s = B;
        for (int i = 0; i < A.Length; i++) s -= A[i] * y[i];
        return s;
    }
}

/// <summary>A conjunction of output constraints: the polyhedron { y : A y &lt;= b }.</summary>
/// <param name="Constraints">The rows.</param>
public sealed record OutputConjunction(IReadOnlyList<OutputConstraint> Constraints)
{
    /// <summary>Whether y meets every row (y lies in the polyhedron).</summary>
    public bool Contains(ReadOnlySpan<double> y)
    {
        foreach (var c in Constraints) if (c.Slack(y) < 0) return false;
        return true;
    }
}

/// <summary>
/// One input box of a property with the unsafe output set that applies on it: a disjunction of conjunctions
/// (U = U_1 or ... or U_K, each U_k = { y : A_k y &lt;= b_k }). The property holds on the box when no x in it has
/// f(x) in U.
/// </summary>
/// <param name="Box">The input box.</param>
/// <param name="Unsafe">The unsafe set, a disjunction of conjunctions.</param>
public sealed record VnnLibCase(InputBox Box, IReadOnlyList<OutputConjunction> Unsafe)
{
    /// <summary>Whether y is unsafe (in some conjunction).</summary>
    public bool IsUnsafe(ReadOnlySpan<double> y)
    {
        foreach (var c in Unsafe) if (c.Contains(y)) return true;
        return false;
    }
}

/// <summary>
/// A VNN-LIB property: n inputs X_i, m outputs Y_j, and the formula "x in some box and f(x) in the unsafe set",
/// normalised to a disjunction of cases (box, unsafe set). "holds" means the formula is unsatisfiable.
/// </summary>
/// <param name="Inputs">n, the number of X_i.</param>
/// <param name="Outputs">m, the number of Y_j.</param>
/// <param name="Cases">The cases (usually one; ACAS Xu property 6 has two boxes).</param>
/// <param name="Source">The file the property came from.</param>
public sealed record VnnLibProperty(int Inputs, int Outputs, IReadOnlyList<VnnLibCase> Cases, string Source)
{
    /// <summary>Whether every output constraint only compares two outputs (<see cref="OutputConstraint.ComparesTwoOutputs"/>).</summary>
    public bool OnlyComparesOutputs => Cases.All(c => c.Unsafe.All(u => u.Constraints.All(k => k.ComparesTwoOutputs)));

    /// <summary>
    /// Refuses (RSR1003) a property that uses the outputs otherwise than by comparing two of them when the model's trailing
    /// <paramref name="strippedOutputOperator"/> (Softmax/LogSoftmax) was left out at import: such a property is about
    /// the probabilities, which the stripped network does not compute.
    /// </summary>
    public void RequireComparisonsOnly(string? strippedOutputOperator)
    {
        if (strippedOutputOperator is null || OnlyComparesOutputs) return;
        throw new ReassureException(ErrorCodes.OnnxUnsupportedOperator,
            $"the model ends in a {strippedOutputOperator}, which the import leaves out, and the property constrains its outputs otherwise than by comparing two of them (a threshold or a sum); " +
            $"expected only comparisons Y_i <= Y_j (decisions the {strippedOutputOperator} does not change), or a model without the trailing {strippedOutputOperator}", Source);
    }

    /// <summary>The smallest box holding every case's box.</summary>
    public InputBox Hull()
    {
        var box = Cases[0].Box;
        foreach (var c in Cases.Skip(1)) { box = box.Including(c.Box.Lower); box = box.Including(c.Box.Upper); }
        return box;
    }
}
