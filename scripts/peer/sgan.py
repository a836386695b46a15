# The semi-supervised GAN of Salimans et al. (2016) in PyTorch, to see whether
# their weight normalisation with data-dependent initialisation matters:
#   python3 scripts/peer/sgan.py mnist wn|nown EPOCHS SEED [LR [LABELS]]
# wn: weight-normalised layers, initialised from 500 training images;
# nown: plain layers, He initialisation (what gantrain does). Prints the
# test accuracy after each epoch.
import sys, gzip, numpy as np, torch, torch.nn as nn, torch.nn.functional as F, time
torch.set_num_threads(1)
ds = sys.argv[1]; wn = sys.argv[2] == 'wn'; epochs = int(sys.argv[3]); seed = int(sys.argv[4]); lr=float(sys.argv[5]) if len(sys.argv)>5 else 0.003
nlab = int(sys.argv[6]) if len(sys.argv)>6 else 100
import glob, os, subprocess
if ds == 'mnist':  # the GoMNIST module's files, as gantrain finds them
    modcache = subprocess.run(['go', 'env', 'GOMODCACHE'], capture_output=True, text=True).stdout.strip()
    root = glob.glob(os.path.join(modcache, 'github.com/petar/*/data/'))[0]
else:
    root = '/usr/share/datasets/fashion-mnist/'
def rd(f, off): return np.frombuffer(gzip.open(root+f).read(), np.uint8, offset=off)
xtr = rd('train-images-idx3-ubyte.gz',16).reshape(-1,784).astype(np.float32)/255*2-1
ytr = rd('train-labels-idx1-ubyte.gz',8).astype(np.int64)
xte = rd('t10k-images-idx3-ubyte.gz',16).reshape(-1,784).astype(np.float32)/255*2-1
yte = rd('t10k-labels-idx1-ubyte.gz',8).astype(np.int64)
rs = np.random.RandomState(seed); torch.manual_seed(seed)
idx = np.concatenate([rs.permutation(np.where(ytr==k)[0])[:nlab//10] for k in range(10)])
xl, yl = torch.tensor(xtr[idx]), torch.tensor(ytr[idx])
xtr_t, xte_t, yte_t = torch.tensor(xtr), torch.tensor(xte), torch.tensor(yte)
def L(i,o):
    l = nn.Linear(i,o)
    if wn: return nn.utils.weight_norm(l)
    nn.init.kaiming_normal_(l.weight); nn.init.zeros_(l.bias); return l
class D(nn.Module):
    def __init__(s):
        super().__init__(); s.l = nn.ModuleList([L(784,1000),L(1000,500),L(500,250),L(250,250),L(250,250)]); s.o = L(250,10)
    def forward(s, x, feat=False):
        if s.training: x = x + 0.3*torch.randn_like(x)
        for l in s.l:
            x = F.relu(l(x))
            if s.training: x = x + 0.5*torch.randn_like(x)
        return (x, s.o(x)) if feat else s.o(x)
G = nn.Sequential(nn.Linear(100,500), nn.Softplus(), nn.BatchNorm1d(500), nn.Linear(500,500), nn.Softplus(), nn.BatchNorm1d(500), L(500,784), nn.Tanh())
d = D()
if wn:  # data-dependent init (Salimans & Kingma): unit-variance, zero-mean pre-activations
    with torch.no_grad():
        h = xtr_t[:500]
        for l in list(d.l)+[d.o]:
            l.weight_v.normal_(0, 0.05); l.weight_g.fill_(1.0); l.bias.zero_()
            y = l(h); m, s_ = y.mean(0), y.std(0)+1e-8
            l.weight_g.div_(s_.view(-1,1)); l.bias.copy_(-m/s_)
            h = F.relu(l(h))
od = torch.optim.Adam(d.parameters(), lr, betas=(0.5,0.999)); og = torch.optim.Adam(G.parameters(), lr, betas=(0.5,0.999))
B=100
t0=time.time()
for ep in range(epochs):
    perm = torch.randperm(60000); d.train()
    for it in range(600):
        xu = xtr_t[perm[it*B:(it+1)*B]]
        li = torch.randint(0, nlab, (B,)); xb, yb = xl[li], yl[li]
        z = torch.rand(B,100)
        fake = G(z)
        ol, ou, of = d(xb), d(xu), d(fake.detach())
        lse_u, lse_f = torch.logsumexp(ou,1), torch.logsumexp(of,1)
        loss = F.cross_entropy(ol,yb) + 0.5*(F.softplus(lse_u)-lse_u).mean() + 0.5*F.softplus(lse_f).mean()
        od.zero_grad(); loss.backward(); od.step()
        fr,_ = d(xu, True); ff,_ = d(G(z), True)
        lg = ((fr.mean(0).detach()-ff.mean(0))**2).mean()
        og.zero_grad(); lg.backward(); og.step()
    d.eval()
    with torch.no_grad(): acc = (d(xte_t).argmax(1)==yte_t).float().mean().item()
    print(f"{ds} wn={wn} ep {ep+1} acc {acc:.4f} t {time.time()-t0:.0f}s", flush=True)
