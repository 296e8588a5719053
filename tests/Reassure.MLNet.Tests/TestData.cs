using Microsoft.ML.Data;
using Reassure.Formats.Mnist;

namespace Reassure.MLNet.Tests;

/// <summary>
/// Locates the shared data folder: walks up from the test's base directory until a folder holding <c>shared/data</c>
/// is found (the repository and <c>shared/</c> sit side by side).
/// </summary>
internal static class TestData
{
    private static readonly Lazy<string> LazyRoot = new(Find);
    private static readonly Lazy<(float[][] Images, int[] Labels)> LazyMnist = new(() =>
    {
        var images = MnistIdx.ReadImages(File("mnist", "t10k-images-idx3-ubyte.gz"), 3000);
        var labels = MnistIdx.ReadLabels(File("mnist", "t10k-labels-idx1-ubyte.gz"), 3000);
        return (images.Select(i => i.Select(v => (float)v).ToArray()).ToArray(), labels);
    });

    /// <summary>The absolute path of <c>shared/data</c>.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>A path under <see cref="Root"/>.</summary>
    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

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

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException(
            $"Test data not found: no folder 'shared/data' in any parent of {AppContext.BaseDirectory}. " +
            "Expected the repository checkout next to 'shared/' (e.g. /work/<repo> and /work/shared/data).");
    }
}

/// <summary>An MNIST row as two half-images and an integer digit.</summary>
public sealed class HalvesRow
{
    [VectorType(392)]
    public float[] Top { get; set; } = [];

    [VectorType(392)]
    public float[] Bottom { get; set; } = [];

    public uint Digit { get; set; }
}
