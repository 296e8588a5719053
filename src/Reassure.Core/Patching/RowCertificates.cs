using Reassure.Lp;

namespace Reassure.Patching;

/// <summary>
/// Per specification row r, the multipliers (if any) of the LP max over the region of P_r y (<see cref="Upper"/>) and
/// of -P_r y (<see cref="Lower"/>) that the patch build solved; null where GLOP stopped early or the build did not
/// solve that side. Any multipliers bound any objective over the same region (weak duality), so they stay
/// valid for the patched objective P_r (F x + e) + P_r (C x + d) and after the patch changed (e.g. a rebuild).
/// <para>
/// An early stop of the input-space simplex leaves multipliers in <see cref="Upper"/> like an exact solve.
/// <see cref="UpperStops"/>[r] is the limit L_r below which the build's dual simplex proved max P_r y (its dual bound
/// crossed L_r, <see cref="RegionLp.MaximizeBelow"/>), NaN where it did not stop early; for a stop of GLOP (objective
/// limit, no multipliers) it is the only record.
/// That proof is about the network part only, so it also stays valid whatever the patch: the check adds the patch's
/// own term P_r (C x + d), bounded over the box in double with its rounding, and needs L_r + that &lt;= qu_r.
/// </para>
/// </summary>
/// <param name="Upper">Multipliers for max P_r y, <c>[k]</c>.</param>
/// <param name="Lower">Multipliers for max -P_r y, <c>[k]</c>.</param>
/// <param name="UpperStops">Limits the build's early stops proved max P_r y below, <c>[k]</c> (NaN: none), or null.</param>
public sealed record RowCertificates(IReadOnlyList<DualCertificate?> Upper, IReadOnlyList<DualCertificate?> Lower, IReadOnlyList<double>? UpperStops = null);
