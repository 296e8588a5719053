using Reassure.Formats.Rows;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Reports.Tests;

/// <summary>
/// A hand-checkable 2 -> 4 (ReLU) -> 3 network on [-1, 1]^2 (the Core tests' TwoFourThree), three buggy points and a
/// grid of evaluation points labelled by a rule.
/// </summary>
internal static class Tiny
{
    public static InputBox Box => InputBox.Uniform(2, -1, 1);

    public static Network Network() => new(
    [
        new DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, 1, -1], [0, 0, -0.5, 0.2], relu: true),
        new DenseLayer(4, 3, [1, -1, 0.5, 0.2, -0.3, 1, -1, 0.4, 0.2, 0.1, 0.7, -1], [0.1, 0, -0.1], relu: false),
    ], domain: Box);

    public static int ArgMax(double[] y)
    {
        int best = 0;
        for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
        return best;
    }

    /// <summary>Two points the network gets wrong against label 2 (and one with a hostile name).</summary>
    public static List<BuggyInput> Buggy(string? hostileId = null)
    {
        var net = Network();
        var points = Grid(9).Where(x => ArgMax(net.Evaluate(x)) != 2).Take(2).ToList();
        return points.Select((x, i) => new BuggyInput(x, new ClassificationSpecification(2, 1e-3), i == 0 && hostileId is not null ? hostileId : $"p{i}")).ToList();
    }

    /// <summary>A k x k grid over the box.</summary>
    public static IEnumerable<double[]> Grid(int k)
    {
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                yield return [-0.95 + 1.9 * i / (k - 1), -0.95 + 1.9 * j / (k - 1)];
    }

    /// <summary>A 15 x 15 grid labelled 2 on the right half, else the original network's decision (so some rows are right before).</summary>
    public static RowSet Evaluation(string source = "tiny-eval.csv")
    {
        var net = Network();
        var xs = Grid(15).ToArray();
        var labels = xs.Select(x => x[0] > 0 ? 2 : ArgMax(net.Evaluate(x))).ToArray();
        return new RowSet(xs, labels, source);
    }
}
