// Experiment, not part of the build: the patch network of method.md §4-§5 (constant patches) as ONE custom ONNX Runtime
// operator, to measure what a fused gate kernel gives against the standard-ONNX graph (issue 6). See README.md here.
//
// Gate(z1 [N, H1], z2 [N, H2], signs [P, H] (+-1), active [P, W] (int64 pattern bits), diffs [P, m] (d'_l),
//      original [N, m]) -> [N, m]
// Per row: the saturated signs of q = gamma z (q >= 1, q <= -1) as bits; a patch whose pattern disagrees with one of them
// has a deficit >= 1 (that neuron alone adds exactly 1), so g = 0 without a float loop. Otherwise the deficit is summed
// in float, neuron by neuron, stopping at 1, and g = min(1, (1 - D) / (1 - delta)). Then out = original + sum_l G_l d'_l
// with the suffix maximum G_l = max(g_l, ..., g_P). Rows with every g = 0 keep the original output's bits (memcpy).
// gamma = 1 and delta = 1/16 are fixed here (the MNIST repair's values); a real operator would take them as attributes.
#define ORT_API_MANUAL_INIT
#include "onnxruntime_cxx_api.h"
#undef ORT_API_MANUAL_INIT
#include "onnxruntime_lite_custom_op.h"
#include <vector>
#include <memory>
#include <algorithm>
#include <cstring>
#include <thread>
#include <cstdint>

static constexpr float kGamma = 1.0f, kDeadZone = 1.0f / 16;


struct Job { const float *a, *b, *s, *d; const uint64_t* active; float* y; int64_t n, h1, h2, h, p, m, words; };
static constexpr int64_t kBlock = 64;

static void Block(void* user, size_t index)
{
    const Job& k = *static_cast<const Job*>(user);
    int64_t r0 = (int64_t)index * kBlock, r1 = std::min(k.n, r0 + kBlock);
    float z[1024]; float g[1024]; uint64_t pos[16], neg[16];
    for (int64_t r = r0; r < r1; r++)
    {
        std::memcpy(z, k.a + r * k.h1, sizeof(float) * k.h1);
        std::memcpy(z + k.h1, k.b + r * k.h2, sizeof(float) * k.h2);
        for (int64_t w = 0; w < k.words; w++) { pos[w] = 0; neg[w] = 0; }
        for (int64_t j = 0; j < k.h; j++)
        {
            float q = kGamma * z[j];
            pos[j >> 6] |= (uint64_t)(q >= 1) << (j & 63);
            neg[j >> 6] |= (uint64_t)(q <= -1) << (j & 63);
        }
        bool any = false;
        for (int64_t l = 0; l < k.p; l++)
        {
            const uint64_t* act = k.active + l * k.words;
            uint64_t wrong = 0;
            for (int64_t w = 0; w < k.words; w++) wrong |= (neg[w] & act[w]) | (pos[w] & ~act[w]);
            if (wrong != 0) { g[l] = 0; continue; }
            const float* sl = k.s + l * k.h;
            float deficit = 0;
            for (int64_t j = 0; j < k.h; j++)
            {
                float u = sl[j] * z[j];
                if (u >= 0) continue;
                deficit += std::min(-kGamma * u, 1.0f);
                if (deficit >= 1) break;
            }
            g[l] = deficit >= 1 ? 0 : std::min(1.0f, (1 - deficit) / (1 - kDeadZone));
            any |= g[l] > 0;
        }
        if (!any) continue;
        float suffix = 0;
        for (int64_t l = k.p - 1; l >= 0; l--)
        {
            suffix = std::max(suffix, g[l]);
            if (suffix == 0) continue;
            for (int64_t o = 0; o < k.m; o++) k.y[r * k.m + o] += suffix * k.d[l * k.m + o];
        }
    }
}

void Gate(OrtKernelContext* context, const Ort::Custom::Tensor<float>& z1, const Ort::Custom::Tensor<float>& z2, const Ort::Custom::Tensor<float>& signs,
          const Ort::Custom::Tensor<int64_t>& activeBits, const Ort::Custom::Tensor<float>& diffs, const Ort::Custom::Tensor<float>& original,
          Ort::Custom::Tensor<float>& out)
{
    auto s1 = z1.Shape(); auto s2 = z2.Shape(); auto sp = signs.Shape(); auto so = original.Shape();
    Job k{z1.Data(), z2.Data(), signs.Data(), diffs.Data(), reinterpret_cast<const uint64_t*>(activeBits.Data()), nullptr,
          s1[0], s1[1], s2[1], s1[1] + s2[1], sp[0], so[1], (s1[1] + s2[1] + 63) / 64};
    if (k.h > 1024 || k.p > 1024) ORT_CXX_API_THROW("Gate: at most 1024 neurons and 1024 patches", ORT_INVALID_ARGUMENT);
    k.y = out.Allocate({k.n, k.m});
    std::memcpy(k.y, original.Data(), sizeof(float) * k.n * k.m);
    size_t blocks = (size_t)((k.n + kBlock - 1) / kBlock);
    if (blocks <= 1) { if (blocks == 1) Block(&k, 0); return; }
    Ort::KernelContext(context).ParallelFor(Block, blocks, 0, &k);
}

static Ort::CustomOpDomain* domain;
static std::unique_ptr<Ort::Custom::OrtLiteCustomOp> op;

extern "C" OrtStatus* RegisterCustomOps(OrtSessionOptions* options, const OrtApiBase* api_base)
{
    Ort::InitApi(api_base->GetApi(ORT_API_VERSION));
    if (domain == nullptr)
    {
        domain = new Ort::CustomOpDomain("reassure.experimental");
        op.reset(Ort::Custom::CreateLiteCustomOp("Gate", "CPUExecutionProvider", Gate));
        domain->Add(op.get());
    }
    Ort::UnownedSessionOptions session_options(options);
    session_options.Add(*domain);
    return nullptr;
}
