import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chunking import chunk_document, heading_level
from bot.corpus import load_manifest, read_document, report_files
from tests.conftest import CREDIT_DOC, SEEDS

SENTENCE_END = re.compile(r"[。！？；!?;：:]+[”’」』)）]*$")


def _docs():
    manifest = load_manifest(SEEDS)
    return [read_document(p, manifest) for p in report_files([SEEDS])]


def test_offsets_slice_back_and_chunks_tile_the_text() -> None:
    for doc in _docs():
        chunks = chunk_document(doc.doc_id, doc.text)
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
        joined = "".join(c.text for c in chunks)
        assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", doc.text)  # nothing lost, nothing twice


def test_chunks_end_on_sentence_or_line_ends() -> None:
    for doc in _docs():
        for chunk in chunk_document(doc.doc_id, doc.text):
            at_line_end = chunk.end == len(doc.text.rstrip()) or doc.text[chunk.end] == "\n"
            assert SENTENCE_END.search(chunk.text) or at_line_end, chunk.text[-30:]


def test_no_chunk_is_only_a_heading() -> None:
    for doc in _docs():
        for chunk in chunk_document(doc.doc_id, doc.text):
            lines = [ln for ln in chunk.text.split("\n") if ln.strip()]
            assert not all(heading_level(ln, True) is not None for ln in lines), chunk.text


def test_section_path_travels_with_content() -> None:
    doc = next(d for d in _docs() if d.doc_id == CREDIT_DOC)
    chunk = next(c for c in chunk_document(doc.doc_id, doc.text) if "信用+调解" in c.text)
    assert chunk.section == "一、上半年工作完成情况 > (三)坚持创新指引,推进市域社会治理现代化"
    assert chunk.embed_text.startswith(chunk.section)


def test_ids_are_stable_and_unique() -> None:
    for doc in _docs():
        first = [c.chunk_id for c in chunk_document(doc.doc_id, doc.text)]
        assert first == [c.chunk_id for c in chunk_document(doc.doc_id, doc.text)]
        assert len(set(first)) == len(first)


_pieces = st.lists(
    st.one_of(
        st.sampled_from(["一、总体情况\n", "(一)加强领导。", "1.推进改革。", "一是", "二是", "\n", "。", "；"]),
        st.text(alphabet="法治建设推进工作律师调解0123456789,、 ", min_size=1, max_size=80),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_pieces)
def test_property_offsets_and_coverage(pieces: list[str]) -> None:
    text = "".join(pieces)
    chunks = chunk_document("d", text, target=120)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))
    assert re.sub(r"\s", "", "".join(c.text for c in chunks)) == re.sub(r"\s", "", text)
