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
    /// <c>[--points 100] [--noise 0] [--file path] [--rounds r]</c> of the commands that time a saved MNIST repair
    /// (<see cref="OrtRatio.LoadOrRepair"/>): the file defaults to the temp folder's repair of that many points (at that noise).
    /// </summary>
    public static (int Points, double Noise, int Rounds, string File) SavedRepair(string[] args, int defaultRounds)
    {
        int points = int.Parse(Option(args, "--points", "100"), CultureInfo.InvariantCulture);
        double noise = double.Parse(Option(args, "--noise", "0"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(Option(args, "--rounds", defaultRounds.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string name = noise == 0 ? $"reassure-mnist-repaired-{points}.onnx" : $"reassure-mnist-repaired-{points}-noise{noise.ToString(CultureInfo.InvariantCulture)}.onnx";
        string file = Option(args, "--file", Path.Combine(Path.GetTempPath(), name));
        return (points, noise, rounds, file);
    }
}
