from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from .forms import DocumentForm
from .models import Document


@login_required
def document_list(request):
    documents = Document.objects.filter(owner=request.user).select_related("file")
    return render(request, "examples/document_list.html", {"documents": documents})


@login_required
def document_edit(request, pk=None):
    document = get_object_or_404(Document, pk=pk, owner=request.user) if pk else Document(owner=request.user)
    form = DocumentForm(request.POST or None, instance=document, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("examples:documents")
    return render(request, "examples/document_form.html", {"form": form, "document": document})
