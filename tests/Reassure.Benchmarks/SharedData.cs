using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;

namespace Reassure.Benchmarks;

/// <summary>
/// Locates <c>shared/data</c> by walking up from the current directory and from <see cref="AppContext.BaseDirectory"/>
/// (the repository checkout sits next to <c>shared/</c>), and loads the MNIST network and test set.
/// </summary>
internal static class SharedData
{
    private static readonly Lazy<string> LazyRoot = new(Find);

    public static string Root => LazyRoot.Value;

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string MnistModelPath => File("models", "reassure-mnist-256x256.onnx");

    public static OnnxModel LoadMnistModel() => OnnxImporter.Load(MnistModelPath);

    public static (double[][] Images, int[] Labels) LoadMnistTest(int limit = int.MaxValue) =>
        (MnistIdx.ReadImages(File("mnist", "t10k-images-idx3-ubyte.gz"), limit),
         MnistIdx.ReadLabels(File("mnist", "t10k-labels-idx1-ubyte.gz"), limit));

    private static string Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate)) return candidate;
            }
        }
        throw new InvalidOperationException(
            $"Data not found: no folder 'shared/data' above {Environment.CurrentDirectory} or {AppContext.BaseDirectory}. " +
            "Expected the repository checkout next to 'shared/' (e.g. /work/<repo> and /work/shared/data).");
    }

    public static int ArgMax(ReadOnlySpan<double> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
