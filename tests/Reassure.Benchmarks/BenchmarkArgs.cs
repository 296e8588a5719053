using System.Globalization;

namespace Reassure.Benchmarks;

/// <summary>Command-line options of the benchmark commands (<c>--name value</c>).</summary>
internal static class BenchmarkArgs
{
    /// <summary>The value after <paramref name="name"/>, or <paramref name="fallback"/> when it is absent.</summary>
    public static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    /// <summary>
    /// <c>[--points 100] [--file path] [--rounds r]</c> of the commands that time a saved MNIST repair
    /// (<see cref="OrtRatio.LoadOrRepair"/>): the file defaults to the temp folder's repair of that many points.
    /// </summary>
    public static (int Points, int Rounds, string File) SavedRepair(string[] args, int defaultRounds)
    {
        int points = int.Parse(Option(args, "--points", "100"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(Option(args, "--rounds", defaultRounds.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string file = Option(args, "--file", Path.Combine(Path.GetTempPath(), $"reassure-mnist-repaired-{points}.onnx"));
        return (points, rounds, file);
    }
}
