using Reassure.Specifications;
namespace Reassure.Patching;

/// <summary>Small dense linear algebra in double for the output space (m &lt;= a few dozen).</summary>
internal static class DenseAlgebra
{
    /// <summary>
    /// Extends P (<c>[k, m]</c>, full row rank) to an invertible square V (<c>[m, m]</c>) by appending an orthonormal
    /// basis of P's null space (Gram-Schmidt of the unit vectors against the row space).
    /// </summary>
    public static double[,] CompleteToSquare(double[,] p)
    {
        int k = p.GetLength(0), m = p.GetLength(1);
        var basis = new List<double[]>(); // orthonormal basis of row space, then null space
        for (int r = 0; r < k; r++)
        {
            var v = new double[m];
            for (int i = 0; i < m; i++) v[i] = p[r, i];
            if (!Orthogonalize(v, basis))
                throw new ReassureException(ErrorCodes.BadSpecification, $"Specification row {r} is linearly dependent on the rows before it (P must have full row rank).");
            basis.Add(v);
        }
        var v2 = new double[m, m];
        for (int r = 0; r < k; r++) for (int i = 0; i < m; i++) v2[r, i] = p[r, i];
        int next = k;
        for (int e = 0; e < m && next < m; e++)
        {
            var v = new double[m];
            v[e] = 1;
            if (!Orthogonalize(v, basis)) continue;
            basis.Add(v);
            for (int i = 0; i < m; i++) v2[next, i] = v[i];
            next++;
        }
        return v2;
    }

    private static bool Orthogonalize(double[] v, List<double[]> basis)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var b in basis)
            {
                double dot = 0;
                for (int i = 0; i < v.Length; i++) dot += v[i] * b[i];
                for (int i = 0; i < v.Length; i++) v[i] -= dot * b[i];
            }
        }
        double norm = Math.Sqrt(v.Sum(t => t * t));
        if (norm < 1e-10) return false;
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
        return true;
    }

    /// <summary>Solves A x = b (A square) by Gaussian elimination with partial pivoting.</summary>
    public static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int piv = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[piv, c])) piv = r;
            if (Math.Abs(m[piv, c]) < 1e-14) throw new InvalidOperationException("Singular matrix.");
            if (piv != c)
            {
                for (int j = 0; j < n; j++) (m[c, j], m[piv, j]) = (m[piv, j], m[c, j]);
                (x[c], x[piv]) = (x[piv], x[c]);
            }
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r, c] / m[c, c];
                if (f == 0) continue;
                for (int j = c; j < n; j++) m[r, j] -= f * m[c, j];
                x[r] -= f * x[c];
            }
        }
        for (int c = n - 1; c >= 0; c--)
        {
            double s = x[c];
            for (int j = c + 1; j < n; j++) s -= m[c, j] * x[j];
            x[c] = s / m[c, c];
        }
        return x;
    }

    /// <summary>The inverse of a square matrix.</summary>
    public static double[,] Inverse(double[,] a)
    {
        int n = a.GetLength(0);
        var inv = new double[n, n];
        for (int c = 0; c < n; c++)
        {
            var e = new double[n];
            e[c] = 1;
            var col = Solve(a, e);
            for (int r = 0; r < n; r++) inv[r, c] = col[r];
        }
        return inv;
    }
}
