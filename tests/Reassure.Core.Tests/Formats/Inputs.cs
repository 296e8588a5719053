using Reassure.Formats.Mnist;

namespace Reassure.Tests.Formats;

/// <summary>Shared test inputs: MNIST test images and seeded random points in a box, all exactly representable in float32.</summary>
internal static class Inputs
{
    private static readonly Lazy<double[][]> LazyImages = new(() => MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz")));
    private static readonly Lazy<int[]> LazyLabels = new(() => MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz")));

    /// <summary>All 10000 MNIST test images, (double)(pixel / 255f).</summary>
    public static double[][] MnistImages => LazyImages.Value;

    /// <summary>All 10000 MNIST test labels.</summary>
    public static int[] MnistLabels => LazyLabels.Value;

    /// <summary>Seeded uniform points in [lo, hi], rounded to float32 so that ONNX Runtime and the double evaluator see the same input.</summary>
    public static double[][] RandomBox(int count, double[] lo, double[] hi, int seed)
    {
        var rng = new Random(seed);
        var rows = new double[count][];
        for (int r = 0; r < count; r++)
        {
            var x = new double[lo.Length];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(lo[i] + rng.NextDouble() * (hi[i] - lo[i]));
            rows[r] = x;
        }
        return rows;
    }

    /// <summary>Index of the largest value (first on ties).</summary>
    public static int ArgMax(IReadOnlyList<double> y)
    {
        int best = 0;
        for (int i = 1; i < y.Count; i++) if (y[i] > y[best]) best = i;
        return best;
    }
}
