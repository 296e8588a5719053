namespace Reassure.Lp;

/// <summary>
/// The LP backend seam (issue 21): max c . x + c0 over a polytope { x in D : a_r . x &lt;= b_r } (method.md §1 rows, the
/// box D as bounds), one objective after another over the same polytope. Implemented by <see cref="PolytopeLp"/> (GLOP)
/// and <see cref="SimplexPolytopeLp"/> (the input-space dual simplex, <see cref="InputSimplex"/>); callers get one from
/// <see cref="LpBackend.Polytope"/>, so the backends are interchangeable (compared on MNIST regions in the tests).
/// </summary>
internal interface IPolytopeLp : IDisposable
{
    /// <summary>Number of LPs solved.</summary>
    int Solves { get; }

    /// <summary>max of c . x + c0 over the polytope (c <c>[n]</c>), with a maximiser; a coded error when there is none.</summary>
    LpResult Maximize(ReadOnlySpan<double> c, double c0 = 0);
}
