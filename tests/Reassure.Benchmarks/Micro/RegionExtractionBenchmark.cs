using BenchmarkDotNet.Attributes;
using Reassure.Networks;
using Reassure.Regions;

namespace Reassure.Benchmarks.Micro;

/// <summary>Region extraction for test image 15: the activation pattern, the affine map F (y = F x + e) and the 512 explicit polytope rows.</summary>
[Config(typeof(QuickConfig))]
public class RegionExtractionBenchmark
{
    private Network _net = null!;
    private double[] _x = null!;
    private ActivationPattern _pattern = null!;
    private InputBox _domain = null!;

    [GlobalSetup]
    public void Setup()
    {
        _net = MnistFixture.Network;
        _x = MnistFixture.Buggy[0].Input;
        _pattern = _net.Pattern(_x);
        _domain = MnistFixture.Domain;
    }

    [Benchmark(Description = "pattern of x")]
    public ActivationPattern Pattern() => _net.Pattern(_x);

    [Benchmark(Baseline = true, Description = "new LinearRegion(...).OutputMatrix")]
    public double[] OutputMatrix() => new LinearRegion(_net, _pattern, _domain).OutputMatrix;

    [Benchmark(Description = "new LinearRegion(...).PolytopeRows()")]
    public int PolytopeRows() => new LinearRegion(_net, _pattern, _domain).PolytopeRows().Count;
}
