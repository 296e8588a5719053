using BenchmarkDotNet.Attributes;
using Reassure.Networks;
using Reassure.Patching;

namespace Reassure.Benchmarks.Micro;

/// <summary>Gated evaluation: RepairedNetwork.Evaluate (10 patches, repaired on the first 10 misclassified images) against Network.Evaluate, on a test image outside every support and on a repaired (buggy) image.</summary>
[Config(typeof(QuickConfig))]
public class GatingBenchmark
{
    private Network _net = null!;
    private RepairedNetwork _repaired = null!;
    private double[] _x = null!;

    [Params("outside", "buggy")]
    public string Image { get; set; } = "outside";

    [GlobalSetup]
    public void Setup()
    {
        _net = MnistFixture.Network;
        _repaired = MnistFixture.Repaired;
        _x = Image == "buggy"
            ? MnistFixture.Buggy[0].Input
            : MnistFixture.Images.First(x => !_repaired.InAnySupport(x));
    }

    [Benchmark(Baseline = true, Description = "Network.Evaluate")]
    public double[] Original() => _net.Evaluate(_x);

    [Benchmark(Description = "RepairedNetwork.Evaluate")]
    public double[] Repaired() => _repaired.Evaluate(_x);
}
