using Reassure.Lp;

namespace Reassure.Patching;

/// <summary>
/// Per specification row r, the multipliers (if any) of the LP max over the region of P_r y (<see cref="Upper"/>) and
/// of -P_r y (<see cref="Lower"/>) that the patch build solved to optimality; null where the build stopped early or
/// did not solve that side. Any multipliers bound any objective over the same region (weak duality), so they stay
/// valid for the patched objective P_r (F x + e) + P_r (C x + d) and after the patch changed (e.g. a rebuild).
/// </summary>
/// <param name="Upper">Multipliers for max P_r y, <c>[k]</c>.</param>
/// <param name="Lower">Multipliers for max -P_r y, <c>[k]</c>.</param>
public sealed record RowCertificates(IReadOnlyList<DualCertificate?> Upper, IReadOnlyList<DualCertificate?> Lower);
