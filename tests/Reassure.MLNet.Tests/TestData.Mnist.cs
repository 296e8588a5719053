using Reassure.Formats.Mnist;
using Reassure.MLNet.Tests;

namespace Reassure;

/// <summary>The ML.NET tests' MNIST data, read from the repository's <c>tests/data</c> (<see cref="Root"/>).</summary>
internal static partial class TestData
{
    private static readonly Lazy<(float[][] Images, int[] Labels)> LazyMnist = new(() =>
    {
        var images = MnistIdx.ReadImages(File("mnist", "t10k-images-idx3-ubyte.gz"), 3000);
        var labels = MnistIdx.ReadLabels(File("mnist", "t10k-labels-idx1-ubyte.gz"), 3000);
        return (images.Select(i => i.Select(v => (float)v).ToArray()).ToArray(), labels);
    });

    /// <summary>The REASSURE MNIST network (784-256-256-10).</summary>
    public static string MnistModel => File("models", "reassure-mnist-256x256.onnx");

    /// <summary>The first 3000 MNIST test images (pixel / 255 as float) and labels.</summary>
    public static (float[][] Images, int[] Labels) Mnist => LazyMnist.Value;

    /// <summary>Rows <paramref name="start"/> .. start + count - 1 split into two halves (to exercise Concatenate).</summary>
    public static List<HalvesRow> Halves(int start, int count) =>
        Enumerable.Range(start, count).Select(i => new HalvesRow
        {
            Top = Mnist.Images[i][..392],
            Bottom = Mnist.Images[i][392..],
            Digit = (uint)Mnist.Labels[i],
        }).ToList();
}
