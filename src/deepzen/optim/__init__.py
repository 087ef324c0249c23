"""deepzen.optim: every optimizer the spec names, each a drop-in ``torch.optim.Optimizer``.

``create(name, params, **hparams)`` builds one by registry name; ``available()`` lists the names with
a one-line description; each class's docstring is its algorithm box (update rule, paper, defaults).
"""

from __future__ import annotations

from deepzen.optim._base import Batch, Optimizer, zeros_like
from deepzen.optim._registry import REGISTRY, available, create, get_class
from deepzen.optim.adabound import AdaBound, AMSBound
from deepzen.optim.adafactor import Adafactor
from deepzen.optim.adadelta import Adadelta
from deepzen.optim.adagrad import Adagrad
from deepzen.optim.adam import Adam, AdamW, AMSGrad
from deepzen.optim.adamax import AdaMax
from deepzen.optim.adan import Adan
from deepzen.optim.ademamix import AdEMAMix
from deepzen.optim.adopt import ADOPT
from deepzen.optim.eve import Eve
from deepzen.optim.lamb import LAMB
from deepzen.optim.lars import LARS
from deepzen.optim.lion import Lion
from deepzen.optim.lookahead import LADOPT, Lookahead
from deepzen.optim.madgrad import MADGRAD
from deepzen.optim.muon import Muon
from deepzen.optim.nadam import NAdam
from deepzen.optim.prodigy import Prodigy
from deepzen.optim.qhadam import QHAdam
from deepzen.optim.radam import RAdam
from deepzen.optim.ranger import Ranger
from deepzen.optim.rmsprop import RMSProp
from deepzen.optim.schedulefree import ScheduleFreeAdamW, ScheduleFreeSGD
from deepzen.optim.sgd import NAG, SGD, Momentum
from deepzen.optim.soap import SOAP
from deepzen.optim.sophia import Sophia
from deepzen.optim.yogi import Yogi

__all__ = [
    "ADOPT", "AMSBound", "AMSGrad", "AdEMAMix", "AdaBound", "AdaMax", "Adadelta", "Adafactor", "Adagrad", "Adam",
    "AdamW", "Adan", "Batch", "Eve", "LADOPT", "LAMB", "LARS", "Lion", "Lookahead", "MADGRAD", "Momentum", "Muon",
    "NAG", "NAdam", "Optimizer", "Prodigy", "QHAdam", "RAdam", "REGISTRY", "RMSProp", "Ranger", "SGD", "SOAP",
    "ScheduleFreeAdamW", "ScheduleFreeSGD", "Sophia", "Yogi", "available", "create", "get_class", "zeros_like",
]
