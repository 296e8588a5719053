using Reassure.Regions;

namespace Reassure.Tests.Regions;

[TestClass]
public sealed class LinearRegionTests
{
    [TestMethod]
    public void AffineMapEqualsNetworkOnEveryPointOfTheRegion()
    {
        foreach (var net in new[] { TinyNetworks.TwoFourThree(), TinyNetworks.Deep() })
        {
            var x0 = new[] { 0.3, -0.4 };
            var region = new LinearRegion(net, net.Pattern(x0), TinyNetworks.Box);
            int inside = 0;
            foreach (var x in TinyNetworks.RandomPoints(2000, 7))
            {
                bool samePattern = net.Pattern(x).Equals(region.Pattern);
                Assert.AreEqual(samePattern, region.Contains(x), "Contains must agree with the pattern test");
                if (!samePattern) continue;
                inside++;
                var y = net.Evaluate(x);
                for (int o = 0; o < y.Length; o++)
                {
                    double affine = region.OutputOffset[o];
                    for (int i = 0; i < 2; i++) affine += region.OutputMatrix[o * 2 + i] * x[i];
                    Assert.AreEqual(y[o], affine, 1e-12);
                }
                foreach (var row in region.PolytopeRows()) Assert.IsTrue(row.Slack(x) >= -1e-12, $"row slack {row.Slack(x)}");
            }
            Assert.IsTrue(inside > 10, $"the sample must reach the region ({inside})");
        }
    }

    /// <summary>
    /// The gradients written into a caller's buffer (what the input-space simplex uses, without keeping them on the region)
    /// are the cached ones bit for bit, whichever is computed first; g_i . x + h_i is each neuron's pre-activation; F and e
    /// agree too; a short buffer is refused.
    /// </summary>
    [TestMethod]
    public void WrittenGradientsEqualTheCachedOnes_AndGiveThePreActivations()
    {
        var net = TinyNetworks.Deep();
        var x0 = new[] { 0.3, -0.4 };
        var first = new LinearRegion(net, net.Pattern(x0), TinyNetworks.Box);
        var buffer = Enumerable.Repeat(double.NaN, net.HiddenCount * 2 + 3).ToArray(); // longer than [H, n], dirty
        first.WriteNeuronGradients(buffer);
        var cached = new LinearRegion(net, net.Pattern(x0), TinyNetworks.Box);
        var g = cached.NeuronGradients;
        CollectionAssert.AreEqual(g, buffer.Take(g.Length).ToArray());
        CollectionAssert.AreEqual(cached.OutputMatrix, first.OutputMatrix);
        CollectionAssert.AreEqual(cached.OutputOffset, first.OutputOffset);
        CollectionAssert.AreEqual(cached.NeuronOffsets, first.NeuronOffsets);
        var again = new double[g.Length];
        cached.WriteNeuronGradients(again); // from the cache now
        CollectionAssert.AreEqual(g, again);
        var z = net.PreActivations(x0);
        for (int j = 0; j < z.Length; j++)
            Assert.AreEqual(z[j], g[j * 2] * x0[0] + g[j * 2 + 1] * x0[1] + cached.NeuronOffsets[j], 1e-12, $"neuron {j}");
        Assert.ThrowsExactly<ArgumentException>(() => first.WriteNeuronGradients(new double[g.Length - 1]));
    }
}
