"""Result files as plain data: nothing in a file this code reads can run code (issue 35).

``state.pt`` files and lifelong checkpoints are read from folders this code may not have written: a
colleague's ``results/``, a shipped bundle, a copied run. They are written with only tensors, numbers,
strings and plain containers in them (``check_plain`` before saving) and read with ``torch.load(...,
weights_only=True)`` (``torch_load``), whose unpickler builds only those; a file that names any other
object (a class, a function such as ``os.system`` or ``open``) is refused with ``UnsafeFileError`` before
anything in it is called.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Iterable
from typing import Any

import torch

PLAIN_SCALARS = (bool, int, float, str, bytes, type(None), torch.device, torch.dtype)


class UnsafeFileError(pickle.UnpicklingError):
    """A file holds objects other than tensors and plain data; it was refused and nothing in it was run."""


def check_plain(obj: Any, where: str = "", allowed: tuple[type, ...] = ()) -> None:
    """Raise TypeError naming the key path of the first value that ``torch.load(weights_only=True)`` would
    refuse: anything but tensors, numbers, strings, bytes, None, devices, dtypes and lists / tuples / dicts of
    them (dict keys: strings or integers), or instances of the types in ``allowed``."""
    if isinstance(obj, torch.Tensor):
        if type(obj) is not torch.Tensor:
            raise TypeError(f"{where or 'value'}: {type(obj).__name__} is a tensor subclass, not a plain tensor")
        return
    if type(obj) in PLAIN_SCALARS or isinstance(obj, (torch.device, torch.dtype)):
        return
    if allowed and type(obj) in allowed:
        for k, v in vars(obj).items():
            check_plain(v, f"{where}.{k}", allowed)
        return
    if type(obj) in (list, tuple):
        for i, v in enumerate(obj):
            check_plain(v, f"{where}[{i}]", allowed)
        return
    if type(obj) is dict:
        for k, v in obj.items():
            if type(k) not in (str, int):
                raise TypeError(f"{where or 'value'}: dict key {k!r} is not a string or an integer")
            check_plain(v, f"{where}[{k!r}]", allowed)
        return
    raise TypeError(
        f"{where or 'value'}: {type(obj).__module__}.{type(obj).__qualname__} is not plain data "
        "(tensors, numbers, strings, lists, tuples, dicts)"
    )


def torch_save(obj: Any, path: str | os.PathLike, allowed: tuple[type, ...] = ()) -> None:
    """``torch.save`` after ``check_plain``: what is written can be read back with ``weights_only=True``."""
    check_plain(obj, "", allowed)
    torch.save(obj, path)


def torch_load(path: str | os.PathLike, map_location: Any = None, allowed: Iterable[type] = ()) -> Any:
    """``torch.load(path, weights_only=True)``; a file naming anything but plain data (and the record types in
    ``allowed``) raises ``UnsafeFileError`` naming the file and the refused global."""
    try:
        with torch.serialization.safe_globals(list(allowed)):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        m = re.search(r"WeightsUnpickler error: (.*)", text)
        detail = m.group(1).split(" Please use")[0].strip() if m else text.splitlines()[0]
        if re.search(r"GLOBAL|global|reduce|allowlisted|persistent", detail):
            raise UnsafeFileError(
                f"{path}: refused: it holds objects other than tensors and plain data ({detail}); "
                "this code writes only plain data there, so the file was written by other (or older) "
                "code or crafted; nothing in it was run"
            ) from None
        raise
