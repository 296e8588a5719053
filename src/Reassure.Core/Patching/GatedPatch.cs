using Reassure.Regions;

namespace Reassure.Patching;

/// <summary>
/// One patch of a repaired network: its region, its full patch p_l, its support g_l and, for the multi-patch
/// combination of method.md §5, the difference p'_l = p_l - p_{l-1} with its bound K'_l over the domain.
/// </summary>
public sealed class GatedPatch
{
    internal GatedPatch(LinearRegion region, AffinePatch patch, AffinePatch difference, double[] bound, Support support, double norm)
    {
        Region = region;
        Patch = patch;
        Difference = difference;
        Bound = bound;
        Support = support;
        Norm = norm;
    }

    /// <summary>The region the patch repairs.</summary>
    public LinearRegion Region { get; }

    /// <summary>p_l, the correction applied on the region.</summary>
    public AffinePatch Patch { get; }

    /// <summary>p'_l = p_l - p_{l-1} (p_0 = 0).</summary>
    public AffinePatch Difference { get; }

    /// <summary>K'_l >= max over the domain of |p'_l,i(x)|, per output.</summary>
    public double[] Bound { get; }

    /// <summary>The gate g_l.</summary>
    public Support Support { get; }

    /// <summary>max over the region of |p_l(x)|_inf.</summary>
    public double Norm { get; }

    internal GatedPatch WithSupport(Support support) => new(Region, Patch, Difference, Bound, support, Norm);
}
