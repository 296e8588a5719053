using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;

namespace Reassure.Formats.Onnx;

/// <summary>
/// A screen in front of the patch network of <see cref="PatchGraph"/>: an exact test that every gate is 0, cheap enough
/// to run on every input, so that the patch network runs only on the rows some support may cover (docs/method.md,
/// "The screened gate").
/// <para>
/// A gate is 0 iff its deficit D = sum_j min(gamma relu(-s'_j z_j), 1) (plus row terms, all >= 0) is >= 1, and for
/// non-negative terms v_j, sum_j min(v_j, 1) >= 1 iff sum_j v_j >= 1 (if some v_j >= 1 both sides are >= 1; otherwise
/// they are equal). So D >= 1 iff gamma sum_j relu(-s'_j z_j) >= 1 over the pattern rows, and any subset of those
/// non-negative terms is a lower bound. The screen keeps the terms of the first hidden layer's neurons that the pattern
/// wants inactive: relu(z_j) = a_j, the layer's own ReLU output, so
/// <code>
///   L = a_1 W_s          a_1 [N, w_1] the first ReLU's output, W_s [w_1, P]: gamma_p where pattern p has neuron j inactive, else 0
///   L_p >= T  =>  D_p >= 1  =>  g_p = 0 exactly (the export's own float32 argument, beta in PatchGraph)
/// </code>
/// with T = 1 + 2^-10: L is a float32 sum of at most w_1 non-negative products, which errs by at most
/// gamma_{w_1} = w_1 2^-24 / (1 - w_1 2^-24) relatively (any order, with or without fused multiply-adds), and float32(gamma)
/// by 2^-24; for w_1 &lt;= 4096 the computed L_p >= T leaves the exact sum above 1 + 2^-11. Reading a_1 instead of z keeps
/// the original Gemm/Relu pairs fusable by ONNX Runtime (nothing else reads z on the closed path).
/// </para>
/// <para>
/// The graph: <c>If(ReduceMin(L) &lt; T)</c>. Its else branch is the original's last layer (moved out of the main graph
/// with its constants, so the closed path is the original nodes plus MatMul, ReduceMin, Less and the If); its then branch
/// computes that layer too, takes the rows with some L_p &lt; T (NonZero), recomputes their pre-activations with copies
/// of the original nodes, runs the patch network of <see cref="PatchGraph"/> on those rows only, and writes their
/// outputs back with ScatterND. On those rows the float32 operations are the unscreened export's (the same nodes on
/// the same row values); on the others every gate is 0 and the output is the original's, as the unscreened export
/// computes it there. From <see cref="TwoLevelFrom"/> patches, groups of patches are screened first and the per-patch
/// screen of the rows they leave open decides an inner If.
/// </para>
/// </summary>
internal static class ScreenedGate
{
    /// <summary>T: a patch is screened out (its gate is 0) where L_p >= T.</summary>
    internal const double Threshold = 1 + 1.0 / 1024;

    /// <summary>Largest first-layer width (terms of the screen sum) and hidden width (terms of the gate's own sums) the margin of <see cref="Threshold"/> covers.</summary>
    internal const int MaxTerms = 4096;

    /// <summary>
    /// Whether the screen applies: dense layers (a_1 is <c>[N, w_1]</c>; structured layers keep the unscreened form),
    /// every patch has a pattern (its only gate terms the screen can bound), and the sizes are within the margin.
    /// </summary>
    public static bool Applies(RepairedNetwork net, string? firstActivation) =>
        firstActivation is not null && net.Original.Layers.Count >= 2 && net.Patches.Count > 0
        && net.Original.Layers.All(l => l.IsDense)
        && net.Patches.All(p => p.Support.Pattern is not null)
        && net.Original.Layers[0].Outputs <= MaxTerms && 2 * net.Original.HiddenCount <= MaxTerms;

    /// <summary>
    /// Adds the screen and the If; writes the repaired output to <paramref name="output"/>.
    /// </summary>
    /// <param name="b">Builder of the main graph.</param>
    /// <param name="net">The repaired network.</param>
    /// <param name="input">The graph input the original nodes read.</param>
    /// <param name="originalNodes">The original nodes from the input up to the last pre-activation, in order (copied into the then branch).</param>
    /// <param name="preActivations">The pre-activation tensors z_l the copied nodes write, in layer order.</param>
    /// <param name="firstActivation">The first hidden layer's ReLU output a_1 <c>[N, w_1]</c>.</param>
    /// <param name="flatten">Whether the patch network's x is Flatten(input) (a source graph) or the input itself (<c>[N, n]</c>).</param>
    /// <param name="original">The original output <c>[N, m]</c>.</param>
    /// <param name="output">The repaired output to write.</param>
    /// <param name="levels">One or two levels of screens; by default two from <see cref="TwoLevelFrom"/> patches on.</param>
    /// <param name="tail">
    /// The original nodes that write <paramref name="original"/> from the last hidden activation, taken out of the main
    /// graph by <see cref="TakeTail"/> with their constants, or null (then the main graph writes <paramref name="original"/>
    /// and the else branch is an Identity of it: the form written before the tail moved).
    /// </param>
    /// <param name="form">The form written (<see cref="ScreenForm"/>; the forms before are still written for the importer).</param>
    /// <param name="groupCount">The first level's group count; by default <see cref="GroupCount"/> (files carry that; benchmarks try others).</param>
    public static void Add(OnnxBuilder b, RepairedNetwork net, string input, IReadOnlyList<NodeProto> originalNodes,
        IReadOnlyList<string> preActivations, string firstActivation, bool flatten, string original, string output, ScreenLevels levels = ScreenLevels.Auto,
        Tail? tail = null, ScreenForm form = ScreenForm.Shared, int? groupCount = null)
    {
        bool nested = form is ScreenForm.Nested or ScreenForm.Merged or ScreenForm.Shared, shared = form == ScreenForm.Shared;
        var patches = net.Patches;
        int pCount = patches.Count, w1 = net.Original.Layers[0].Outputs, m = net.Original.OutputSize;
        var inactive = patches.Select(p => Enumerable.Range(0, w1).Where(j => !p.Support.Pattern![j]).ToArray()).ToArray();
        string threshold = b.Constant("threshold", [Threshold]);                                                        // T, a scalar
        var open = b.SubgraphWithConstants("open");
        // With the tail in the branches, the then branch computes the original output [N, m] itself first (a copy of
        // the tail on every row, with its own constants), for the rows it leaves as they are.
        string originalIn = tail is null ? original : CopyTail(open, tail, original, open.Name("original"));
        string outOpen;
        string screen;
        if (levels == ScreenLevels.One || (levels == ScreenLevels.Auto && pCount < TwoLevelFrom(form)))
        {
            screen = b.Node("MatMul", [firstActivation, b.Constant("screen", Columns(inactive, patches.Select(p => p.Support.Gamma).ToArray(), w1), w1, pCount)]); // L [N, P]
            var (rows, nonZero) = OpenRows(open, screen, threshold);
            outOpen = Exact(open, net, input, originalNodes, preActivations, flatten, originalIn, rows, open.Node("Transpose", [nonZero]), null, shared);
        }
        else
        {
            // Two levels: groups of patches screened by the neurons inactive in every pattern of the group (times the
            // group's least gamma: a lower bound of each member's L_p), then on the rows some group leaves open, the
            // per-patch screen, then the patch network on the rows still open.
            int k = groupCount ?? GroupCount(pCount);
            var groups = form is ScreenForm.Merged or ScreenForm.Shared ? MergedGroups(inactive, w1, k) : Groups(inactive, w1, k);
            var common = groups.Select(g => g.Skip(1).Aggregate(inactive[g[0]].AsEnumerable(), (set, p) => set.Intersect(inactive[p])).ToArray()).ToArray();
            screen = b.Node("MatMul", [firstActivation, b.Constant("groupscreen", Columns(common, groups.Select(g => g.Min(p => patches[p].Support.Gamma)).ToArray(), w1), w1, groups.Count)]); // [N, G]
            var (rows1, _) = OpenRows(open, screen, threshold);                                                         // [k1]
            string a1 = open.Node("Gather", [firstActivation, rows1], null, OnnxBuilder.Int("axis", 0));                // [k1, w_1]
            string perPatch = open.Node("MatMul", [a1, open.Constant("screen", Columns(inactive, patches.Select(p => p.Support.Gamma).ToArray(), w1), w1, pCount)]); // [k1, P]
            if (!nested)
            {
                // No inner If (the form before): the patch network runs on the k2 rows still open, none for most inputs
                // the first level lets through, but its nodes run on those empty tensors.
                var (rows2, _) = OpenRows(open, perPatch, threshold);                                                   // [k2], into rows1
                string rows = open.Node("Gather", [rows1, rows2], null, OnnxBuilder.Int("axis", 0));                    // [k2], into the batch
                outOpen = Exact(open, net, input, originalNodes, preActivations, flatten, originalIn, rows, open.Node("Unsqueeze", [rows, open.Int64s("axes", 1)]), null, shared);
            }
            else
            {
                // An inner If on the per-patch screen: where it closes every row the first level let through, the branch
                // is an Identity. Two levels down, copies of the original nodes reading the main graph's weights computed
                // other pre-activations than the main graph on some rows (tested; one level down they compute the same),
                // so the inner branch holds its own copies of them (ONNX Runtime pre-packs a graph's own weights).
                var exact = open.SubgraphWithConstants("exact");
                var (rows2, _) = OpenRows(exact, perPatch, threshold);                                                  // [k2], into rows1
                string rows = exact.Node("Gather", [rows1, rows2], null, OnnxBuilder.Int("axis", 0));                   // [k2], into the batch
                string outExact = Exact(exact, net, input, originalNodes, preActivations, flatten, originalIn, rows, exact.Node("Unsqueeze", [rows, exact.Int64s("axes", 1)]), b.Graph, shared);
                exact.Graph.Output.Add(OnnxBuilder.FloatInfo(outExact, "N", m));
                var none = open.Subgraph("none");
                string unchanged = none.Node("Identity", [originalIn]);
                none.Graph.Output.Add(OnnxBuilder.FloatInfo(unchanged, "N", m));
                string anyPatch = open.Node("Less", [open.Node("ReduceMin", [perPatch], null, OnnxBuilder.Int("keepdims", 0)), open.Constant("threshold", [Threshold])]);
                outOpen = open.Node("If", [anyPatch], null, OnnxBuilder.GraphAttribute("then_branch", exact.Graph), OnnxBuilder.GraphAttribute("else_branch", none.Graph));
            }
        }
        open.Graph.Output.Add(OnnxBuilder.FloatInfo(outOpen, "N", m));
        string anyOpen = b.Node("Less", [b.Node("ReduceMin", [screen], null, OnnxBuilder.Int("keepdims", 0)), threshold]);
        string same;
        OnnxBuilder closed;
        if (tail is null)
        {
            closed = b.Subgraph("closed");
            same = closed.Node("Identity", [original]);
        }
        else
        {
            // The else branch is the original's own tail (same node names, same constants, held by the branch), so the
            // closed path has no node beyond the screen's: ONNX Runtime wants a node between an outer value and a
            // branch output, and this one is work the original does anyway.
            closed = b.SubgraphWithConstants("closed");
            foreach (var t in tail.Constants) closed.Graph.Initializer.Add(t.Clone());
            foreach (var node in tail.Nodes) closed.Graph.Node.Add(node.Clone());
            same = original;
        }
        closed.Graph.Output.Add(OnnxBuilder.FloatInfo(same, "N", m));
        b.Node("If", [anyOpen], output, OnnxBuilder.GraphAttribute("then_branch", open.Graph), OnnxBuilder.GraphAttribute("else_branch", closed.Graph));
    }

    /// <summary>
    /// The original nodes that compute <paramref name="original"/> from <paramref name="lastActivation"/> (and from
    /// constants only they read), removed from <paramref name="graph"/> with those constants; null (nothing removed)
    /// when the nodes after the last activation are not such a closed tail (another node reads one of their values
    /// or constants, or they read another tensor). Both in graph order; the constants in order of first use.
    /// </summary>
    internal static Tail? TakeTail(GraphProto graph, string lastActivation, string original)
    {
        var nodes = graph.Node;
        int from = -1, to = -1;
        for (int n = 0; n < nodes.Count; n++)
        {
            if (nodes[n].Output.Contains(lastActivation)) from = n;
            if (nodes[n].Output.Contains(original)) to = n;
        }
        if (from < 0 || to <= from) return null;
        // The tail: the producer of the original output and, backwards, every node after the last activation all of
        // whose values only tail nodes read.
        var readers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int n = 0; n < nodes.Count; n++)
            foreach (var name in nodes[n].Input.Concat(nodes[n].Attribute.Where(a => a.G is not null).SelectMany(a => SubgraphReads(a.G))))
                (readers.TryGetValue(name, out var list) ? list : readers[name] = []).Add(n);
        var members = new SortedSet<int> { to };
        for (bool grew = true; grew;)
        {
            grew = false;
            for (int n = to - 1; n > from; n--)
            {
                if (members.Contains(n)) continue;
                var outs = nodes[n].Output.Where(o => o.Length > 0).ToList();
                if (outs.Count > 0 && outs.All(o => readers.TryGetValue(o, out var r) && r.All(members.Contains)) && outs.Any(o => readers[o].Count > 0))
                {
                    members.Add(n);
                    grew = true;
                }
            }
        }
        var produced = members.SelectMany(n => nodes[n].Output).ToHashSet(StringComparer.Ordinal);
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var constants = new List<TensorProto>();
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (int n in members)
        {
            var node = nodes[n];
            if (node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)) return null;
            if (node.Output.Any(o => graphOutputs.Contains(o) || (readers.TryGetValue(o, out var r) && (o == original || !r.All(members.Contains))))) return null;
            foreach (var input in node.Input)
            {
                if (input.Length == 0 || input == lastActivation || produced.Contains(input)) continue;
                if (!initializers.TryGetValue(input, out var t) || !readers[input].All(members.Contains)) return null;
                if (!constants.Contains(t)) constants.Add(t);
            }
        }
        var tailNodes = members.Select(n => nodes[n]).ToList();
        foreach (var node in tailNodes) nodes.Remove(node);
        foreach (var t in constants) graph.Initializer.Remove(t);
        return new Tail(tailNodes, constants);
    }

    private static IEnumerable<string> SubgraphReads(GraphProto g) =>
        g.Node.SelectMany(n => n.Input.Concat(n.Attribute.Where(a => a.G is not null).SelectMany(a => SubgraphReads(a.G))));

    /// <summary>Copies of the tail's nodes and constants in a branch (fresh node and value names), writing <paramref name="output"/> for <paramref name="original"/>.</summary>
    private static string CopyTail(OnnxBuilder branch, Tail tail, string original, string output)
    {
        foreach (var t in tail.Constants) branch.Graph.Initializer.Add(t.Clone());
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in tail.Nodes)
        {
            var copy = node.Clone();
            copy.Name = branch.Name("copy");
            for (int k = 0; k < copy.Input.Count; k++) if (renamed.TryGetValue(copy.Input[k], out var r)) copy.Input[k] = r;
            for (int k = 0; k < copy.Output.Count; k++)
            {
                if (copy.Output[k].Length == 0) continue;
                string fresh = copy.Output[k] == original ? output : branch.Name("row");
                renamed[copy.Output[k]] = fresh;
                copy.Output[k] = fresh;
            }
            branch.Graph.Node.Add(copy);
        }
        return output;
    }

    /// <summary>
    /// From this many patches on, the screen has two levels (groups, then patches): 100 in the nested forms (at 100
    /// patches on MNIST two nested levels were faster than one for batches and no slower for single images; fewer
    /// patches not measured), 256 in the forms before.
    /// </summary>
    internal static int TwoLevelFrom(ScreenForm form) => form is ScreenForm.Nested or ScreenForm.Merged or ScreenForm.Shared ? 100 : 256;

    /// <summary>Groups of the first level: c sqrt(P), rounded up (c = 2 in the files written).</summary>
    internal static int GroupCount(int patches, double factor = 2) => (int)Math.Ceiling(factor * Math.Sqrt(patches));

    /// <summary>Screen weights <c>[w_1, columns]</c>: gamma of the column at each of its neurons, else 0.</summary>
    private static double[] Columns(int[][] neurons, double[] gamma, int w1)
    {
        int count = neurons.Length;
        var w = new double[w1 * count];
        for (int c = 0; c < count; c++) foreach (int j in neurons[c]) w[j * count + c] = gamma[c];
        return w;
    }

    /// <summary>The rows of <paramref name="screen"/> <c>[k, C]</c> with some value below T: indices <c>[k']</c> and the NonZero <c>[1, k']</c>.</summary>
    private static (string Rows, string NonZero) OpenRows(OnnxBuilder b, string screen, string threshold)
    {
        string rowLeast = b.Node("ReduceMin", [screen], null, OnnxBuilder.Ints("axes", 1), OnnxBuilder.Int("keepdims", 0)); // [k]
        string nonZero = b.Node("NonZero", [b.Node("Less", [rowLeast, threshold])]);                                        // [1, k']
        return (b.Node("Squeeze", [nonZero, b.Int64s("axes", 0)]), nonZero);                                               // [k']
    }

    /// <summary>
    /// The patch network on the batch rows <paramref name="rows"/> <c>[k]</c>: their pre-activations recomputed by copies
    /// of the original nodes, the corrected outputs scattered into the original output at <paramref name="scatterIndices"/>
    /// <c>[k, 1]</c> (the same rows). Returns the repaired output <c>[N, m]</c>. With <paramref name="identity"/> (form
    /// <see cref="ScreenForm.Shared"/>) each recomputed pre-activation passes through LeakyRelu(alpha 1), an exact
    /// identity: ONNX Runtime then fuses the copied Gemm with it into the same fused kernel as the original's Gemm + Relu,
    /// which shares the original's pre-packed weights (a copy of equal weights under a plain Gemm, or with one bit
    /// changed under the fused kernel, does not), so the recompute reads weights the closed path keeps in cache.
    /// </summary>
    private static string Exact(OnnxBuilder open, RepairedNetwork net, string input, IReadOnlyList<NodeProto> originalNodes,
        IReadOnlyList<string> preActivations, bool flatten, string original, string rows, string scatterIndices, GraphProto? weightsFrom, bool identity)
    {
        var patches = net.Patches;
        string rowsInput = open.Node("Gather", [input, rows], null, OnnxBuilder.Int("axis", 0));                               // [k, ...]
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal) { [input] = rowsInput };
        var outer = weightsFrom?.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var node in originalNodes)
        {
            var copy = node.Clone();
            copy.Name = open.Name("copy");
            for (int k = 0; k < copy.Input.Count; k++)
            {
                if (renamed.TryGetValue(copy.Input[k], out var r)) copy.Input[k] = r;
                else if (outer is not null && outer.TryGetValue(copy.Input[k], out var t))
                {
                    // The branch's own copy of the constant (fresh name: a branch value may not shadow an outer one).
                    var own = t.Clone();
                    own.Name = open.Name("weight");
                    open.Graph.Initializer.Add(own);
                    renamed[copy.Input[k]] = own.Name;
                    copy.Input[k] = own.Name;
                }
            }
            var identities = new List<(string From, string To)>();
            for (int k = 0; k < copy.Output.Count; k++)
            {
                if (copy.Output[k].Length == 0) continue;
                string fresh = open.Name("row");
                if (identity && preActivations.Contains(copy.Output[k]))
                {
                    // z_l through LeakyRelu(alpha 1): the identity (x for x >= 0, 1 x = x below), so the copy's Gemm
                    // and it fuse as the original's Gemm and Relu do.
                    string raw = open.Name("row");
                    identities.Add((raw, fresh));
                    renamed[copy.Output[k]] = fresh;
                    copy.Output[k] = raw;
                    continue;
                }
                renamed[copy.Output[k]] = fresh;
                copy.Output[k] = fresh;
            }
            open.Graph.Node.Add(copy);
            foreach (var (from, to) in identities) open.Node("LeakyRelu", [from], to, OnnxBuilder.Float("alpha", 1));
        }
        var rowsPre = preActivations.Select(z => renamed[z]).ToList();                                                  // z_l [k, w_l]
        string rowsOriginal = open.Node("Gather", [original, rows], null, OnnxBuilder.Int("axis", 0));                  // [k, m]
        bool readsX = patches.Any(p => p.Support.Rows.Count > 0 || p.Support.Box is not null || p.Difference.C is not null);
        string x = flatten && readsX ? open.Node("Flatten", [rowsInput], null, OnnxBuilder.Int("axis", 1)) : rowsInput;
        string corrected = open.Name("corrected");
        PatchGraph.Add(open, net, x, rowsPre, rowsOriginal, corrected);                                                 // [k, m]
        return open.Node("ScatterND", [original, scatterIndices, corrected]);                                           // [N, m]
    }

    /// <summary>Above this many patches <see cref="MergedGroups"/> falls back to <see cref="Groups"/> (its score table is P^2/2 doubles).</summary>
    internal const int MaxMergedPatches = 2048;

    /// <summary>
    /// Patches in (at most) <paramref name="k"/> groups by merging: starting from one group per patch, the two groups
    /// whose common inactive set C (the neurons every member's pattern wants inactive: the group's screen column) has
    /// the largest weight sum_{j in C} f_j are merged, until k groups are left; f_j is the fraction of the patterns
    /// with neuron j active. A group's screen sum_{j in C} a_j closes the rows where the neurons of C fire, and f_j
    /// estimates from the repair's own regions how often neuron j fires, so the merge keeps the common sets that
    /// typical inputs activate (on the 100-patch MNIST repair, 20 groups leave 5 % of the 10 000 test images to the
    /// second level, against 12 % for <see cref="Groups"/>). The weights of a merged pair only shrink (C_ab is in C_a
    /// and in C_b), so each group's best partner is rescanned only when that partner merged. Deterministic (the
    /// importer exports again and compares): double sums in neuron order, ties to the lowest indices; members ascending,
    /// groups by their first member. Above <see cref="MaxMergedPatches"/> patches, <see cref="Groups"/>.
    /// </summary>
    internal static List<List<int>> MergedGroups(int[][] inactive, int w1, int k)
    {
        int count = inactive.Length;
        if (count > MaxMergedPatches) return Groups(inactive, w1, k);
        k = Math.Max(1, Math.Min(k, count));
        var f = new double[w1];
        foreach (var set in inactive) foreach (int j in set) f[j] += 1;
        for (int j = 0; j < w1; j++) f[j] = 1 - f[j] / count;                                                         // fraction active
        int words = (w1 + 63) / 64;
        var bits = new ulong[count][];
        for (int p = 0; p < count; p++)
        {
            bits[p] = new ulong[words];
            foreach (int j in inactive[p]) bits[p][j >> 6] |= 1UL << (j & 63);
        }
        double Weight(ulong[] a, ulong[] c)
        {
            double sum = 0;
            for (int q = 0; q < words; q++)
                for (ulong m = a[q] & c[q]; m != 0; m &= m - 1) sum += f[(q << 6) + System.Numerics.BitOperations.TrailingZeroCount(m)];
            return sum;
        }
        var score = new double[count * (count - 1) / 2];                                                                 // (a < c) at a (2 count - a - 1) / 2 + c - a - 1
        int At(int a, int c) => a < c ? a * (2 * count - a - 1) / 2 + c - a - 1 : At(c, a);
        for (int a = 0; a < count; a++) for (int c = a + 1; c < count; c++) score[At(a, c)] = Weight(bits[a], bits[c]);
        var alive = new bool[count];
        Array.Fill(alive, true);
        var members = Enumerable.Range(0, count).Select(p => new List<int> { p }).ToArray();
        var best = new int[count];
        void Rescan(int a)
        {
            best[a] = -1;
            for (int c = 0; c < count; c++)
                if (c != a && alive[c] && (best[a] < 0 || score[At(a, c)] > score[At(a, best[a])])) best[a] = c;
        }
        for (int a = 0; a < count; a++) Rescan(a);
        for (int left = count; left > k; left--)
        {
            int x = -1;
            for (int a = 0; a < count; a++)
                if (alive[a] && best[a] >= 0 && (x < 0 || score[At(a, best[a])] > score[At(x, best[x])])) x = a;
            int keep = Math.Min(x, best[x]), gone = Math.Max(x, best[x]);
            alive[gone] = false;
            for (int q = 0; q < words; q++) bits[keep][q] &= bits[gone][q];
            members[keep].AddRange(members[gone]);
            for (int c = 0; c < count; c++) if (alive[c] && c != keep) score[At(keep, c)] = Weight(bits[keep], bits[c]);
            for (int c = 0; c < count; c++)
                if (alive[c] && (c == keep || best[c] == keep || best[c] == gone)) Rescan(c);
        }
        return Enumerable.Range(0, count).Where(a => alive[a]).Select(a => members[a].Order().ToList()).ToList();
    }

    /// <summary>
    /// Patches in (at most) <paramref name="k"/> groups by their first-layer inactive sets: seeds chosen farthest-first
    /// from patch 0 in Hamming distance (ties: the lowest index), each patch in the group of its nearest seed (ties: the
    /// first seed). Deterministic: the importer exports again and compares.
    /// </summary>
    internal static List<List<int>> Groups(int[][] inactive, int w1, int k)
    {
        int count = inactive.Length;
        k = Math.Min(k, count);
        var bits = inactive.Select(set => { var v = new bool[w1]; foreach (int j in set) v[j] = true; return v; }).ToArray();
        int Distance(int a, int b)
        {
            int d = 0;
            for (int j = 0; j < w1; j++) if (bits[a][j] != bits[b][j]) d++;
            return d;
        }
        var seeds = new List<int> { 0 };
        var nearest = Enumerable.Range(0, count).Select(p => Distance(p, 0)).ToArray();
        while (seeds.Count < k)
        {
            int far = 0;
            for (int p = 1; p < count; p++) if (nearest[p] > nearest[far]) far = p;
            if (nearest[far] == 0) break; // every pattern equals a seed's
            seeds.Add(far);
            for (int p = 0; p < count; p++) nearest[p] = Math.Min(nearest[p], Distance(p, far));
        }
        var groups = seeds.Select(_ => new List<int>()).ToList();
        for (int p = 0; p < count; p++)
        {
            int best = 0, bestD = int.MaxValue;
            for (int s = 0; s < seeds.Count; s++) { int d = Distance(p, seeds[s]); if (d < bestD) { bestD = d; best = s; } }
            groups[best].Add(p);
        }
        return groups.Where(g => g.Count > 0).ToList();
    }
}

/// <summary>The original nodes after the last hidden activation that write the original output, and the constants only they read (<see cref="ScreenedGate.TakeTail"/>).</summary>
internal sealed record Tail(IReadOnlyList<NodeProto> Nodes, IReadOnlyList<TensorProto> Constants);

/// <summary>
/// The forms of the screened export, each still written for the importer, which exports again and compares (a file
/// reads back in the form it was written in).
/// </summary>
internal enum ScreenForm
{
    /// <summary>The original's last layer in the main graph, the If's else branch an Identity of its output; two flat levels from 256 patches (written 2026-12-05 09:21 to 12:47).</summary>
    IdentityElse,

    /// <summary>The last layer moved into both If branches; two flat levels from 256 patches (written 12:47 to 12:59).</summary>
    TailFlat,

    /// <summary>The last layer in both branches; two levels from 100 patches, the second deciding an inner If whose then branch holds its own copies of the original weights; groups by <see cref="ScreenedGate.Groups"/> (written 2026-12-05 afternoon).</summary>
    Nested,

    /// <summary>As <see cref="Nested"/>, with the first level's groups by <see cref="ScreenedGate.MergedGroups"/> (written 2026-12-05 16:58 to 17:30).</summary>
    Merged,

    /// <summary>As <see cref="Merged"/>, each pre-activation the exact path recomputes passed through LeakyRelu(alpha 1) (an identity), so ONNX Runtime's fused kernel shares the original's pre-packed weights.</summary>
    Shared,
}

/// <summary>The levels of the screen (<see cref="ScreenedGate"/>): by the patch count (what files carry), or forced (tests, benchmarks).</summary>
internal enum ScreenLevels
{
    /// <summary>One level below <see cref="ScreenedGate.TwoLevelFrom"/> patches, two from there on.</summary>
    Auto,

    /// <summary>The per-patch screen only.</summary>
    One,

    /// <summary>Groups of patches first, then the per-patch screen on the rows they leave open.</summary>
    Two,
}
