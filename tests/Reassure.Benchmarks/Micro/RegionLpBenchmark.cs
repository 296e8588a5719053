using BenchmarkDotNet.Attributes;
using Reassure.Lp;
using Reassure.Regions;

namespace Reassure.Benchmarks.Micro;

/// <summary>
/// One region's 9 LPs (max of y_i - y_t over the region of test image 15, the first misclassified one): the engine's
/// RegionLp built and re-solved per objective, with the input-space simplex first (Auto) and with GLOP only, against a
/// fresh GLOP model per LP (box as rows).
/// </summary>
[Config(typeof(QuickConfig))]
public class RegionLpBenchmark
{
    private LinearRegion _region = null!;
    private double[][] _objectives = null!;
    private double[] _limits = null!;
    private IReadOnlyList<HalfSpace> _rows = null!;

    [GlobalSetup]
    public void Setup()
    {
        var net = MnistFixture.Network;
        var regions = NaiveBaseline.Regions(net, MnistFixture.Domain, MnistFixture.Buggy.Take(1).ToList());
        (_region, _objectives, _limits) = regions[0];
        _rows = _region.PolytopeRows();
    }

    [Benchmark(Baseline = true, Description = "RegionLp: build + 9 exact maxima")]
    public double Engine()
    {
        double s = 0;
        using var lp = new RegionLp(_region);
        foreach (var w in _objectives) s += lp.MaximizeOutput(w).Value;
        return s;
    }

    [Benchmark(Description = "RegionLp: build + 9 x MaximizeBelow(qu) (as repair uses it)")]
    public double EngineAsUsed()
    {
        double s = 0;
        using var lp = new RegionLp(_region);
        for (int o = 0; o < _objectives.Length; o++) s += lp.MaximizeBelow(_objectives[o], default, 0, _limits[o]).Value;
        return s;
    }

    [Benchmark(Description = "RegionLp GLOP only: build + 9 exact maxima")]
    public double GlopOnly()
    {
        double s = 0;
        using var lp = new RegionLp(_region, null, RegionLpEngine.Glop);
        foreach (var w in _objectives) s += lp.MaximizeOutput(w).Value;
        return s;
    }

    [Benchmark(Description = "RegionLp GLOP only: build + 9 x MaximizeBelow(qu)")]
    public double GlopOnlyAsUsed()
    {
        double s = 0;
        using var lp = new RegionLp(_region, null, RegionLpEngine.Glop);
        for (int o = 0; o < _objectives.Length; o++) s += lp.MaximizeBelow(_objectives[o], default, 0, _limits[o]).Value;
        return s;
    }

    [Benchmark(Description = "naive: fresh GLOP per LP, box as rows, 9 maxima")]
    public double Naive()
    {
        double s = 0;
        foreach (var w in _objectives) s += NaiveBaseline.SolveFresh(_rows, _region.Domain, _region.OutputMatrix, _region.OutputOffset, w);
        return s;
    }
}
