using Reassure.Networks;

namespace Reassure.Tests;

/// <summary>Small hand-checkable networks with a 2-D input in [-1, 1]^2.</summary>
internal static class TinyNetworks
{
    public static InputBox Box => InputBox.Uniform(2, -1, 1);

    /// <summary>2 -> 4 (ReLU) -> 3: hyperplanes x1 = 0, x2 = 0, x1 + x2 = 0.5, x1 - x2 = -0.2.</summary>
    public static Network TwoFourThree() => new(
    [
        new DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, 1, -1], [0, 0, -0.5, 0.2], relu: true),
        new DenseLayer(4, 3, [1, -1, 0.5, 0.2, -0.3, 1, -1, 0.4, 0.2, 0.1, 0.7, -1], [0.1, 0, -0.1], relu: false),
    ], domain: Box);

    /// <summary>2 -> 3 -> 3 (ReLU) -> 2: two hidden layers.</summary>
    public static Network Deep() => new(
    [
        new DenseLayer(2, 3, [1, 0.5, -0.5, 1, 0.3, -0.7], [0.1, -0.2, 0], relu: true),
        new DenseLayer(3, 3, [1, -1, 0.5, 0.5, 1, -1, -1, 0.2, 1], [0, 0.1, -0.1], relu: true),
        new DenseLayer(3, 2, [1, 0.5, -1, -0.5, 1, 1], [0, 0.05], relu: false),
    ], domain: Box);

    public static int ArgMax(double[] y)
    {
        int best = 0;
        for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
        return best;
    }

    /// <summary>Seeded uniform points in the box.</summary>
    public static IEnumerable<double[]> RandomPoints(int count, int seed, InputBox? box = null)
    {
        box ??= Box;
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            var x = new double[box.Dimension];
            for (int i = 0; i < x.Length; i++) x[i] = box.Lower[i] + rng.NextDouble() * (box.Upper[i] - box.Lower[i]);
            yield return x;
        }
    }
}
