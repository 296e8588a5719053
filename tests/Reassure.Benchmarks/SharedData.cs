using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;

namespace Reassure.Benchmarks;

/// <summary>
/// Where the benchmarks read their data: the folder given by <c>--data PATH</c> (or the <c>REASSURE_DATA</c> environment
/// variable), laid out as the project's staged <c>shared/data</c>; otherwise the repository's <c>tests/data</c> (same layout,
/// only the files the tests use), found like the tests find it from the current directory or the binary.
/// A file that is not there is a <see cref="DataMissingException"/>, which <c>Program</c> prints as one line (exit code 2).
/// </summary>
internal static class SharedData
{
    public const string Option = "--data";
    public const string EnvironmentVariable = "REASSURE_DATA";

    private static string? _explicitRoot;
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>Takes <c>--data PATH</c> out of <paramref name="args"/> (it overrides the environment variable) and returns the rest.</summary>
    public static string[] TakeDataOption(string[] args)
    {
        int i = Array.IndexOf(args, Option);
        if (i < 0) return args;
        if (i + 1 >= args.Length) throw new DataMissingException($"{Option} needs a folder: {Option} PATH (a folder laid out as shared/data).");
        _explicitRoot = args[i + 1];
        return [.. args[..i], .. args[(i + 2)..]];
    }

    /// <summary>The data folder in use.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>A file under <see cref="Root"/>; a <see cref="DataMissingException"/> naming it and the option when it is missing.</summary>
    public static string File(params string[] parts)
    {
        var path = Path.Combine([Root, .. parts]);
        if (System.IO.File.Exists(path)) return path;
        throw new DataMissingException($"Data file missing: {string.Join('/', parts)} is not in {Root}; " +
            $"pass {Option} PATH (or set {EnvironmentVariable}) to a folder laid out as shared/data that has it.");
    }

    /// <summary>
    /// A file named as in the staged <c>expected-results.csv</c> files (relative to the folder that holds <c>shared/</c>,
    /// e.g. <c>shared/data/vnncomp/acasxu/prop_1.vnnlib</c>), under <see cref="Root"/>.
    /// </summary>
    public static string Listed(string relative)
    {
        const string prefix = "shared/data/";
        var rest = relative.StartsWith(prefix, StringComparison.Ordinal) ? relative[prefix.Length..] : relative;
        return File(rest.Split('/'));
    }

    public static string MnistModelPath => File("models", "reassure-mnist-256x256.onnx");

    public static OnnxModel LoadMnistModel() => OnnxImporter.Load(MnistModelPath);

    public static (double[][] Images, int[] Labels) LoadMnistTest(int limit = int.MaxValue) =>
        (MnistIdx.ReadImages(File("mnist", "t10k-images-idx3-ubyte.gz"), limit),
         MnistIdx.ReadLabels(File("mnist", "t10k-labels-idx1-ubyte.gz"), limit));

    private static string FindRoot()
    {
        var given = _explicitRoot ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(given))
        {
            var full = Path.GetFullPath(given);
            return Directory.Exists(full) ? full
                : throw new DataMissingException($"Data folder not found: {full} (from {(_explicitRoot is not null ? Option : EnvironmentVariable)}).");
        }
        return TestData.Find(Environment.CurrentDirectory) ?? TestData.Find(AppContext.BaseDirectory)
            ?? throw new DataMissingException($"Data folder not found: no tests/data of the repository above {Environment.CurrentDirectory} or " +
                $"{AppContext.BaseDirectory}; pass {Option} PATH (or set {EnvironmentVariable}) to a folder laid out as shared/data.");
    }

    public static int ArgMax(ReadOnlySpan<double> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

/// <summary>A data file or folder the benchmark needs is not there; the message says what to pass.</summary>
internal sealed class DataMissingException(string message) : Exception(message);
