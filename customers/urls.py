"""Customer pages. Names are fixed (see the brief's URL layout): other apps link to them."""

from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/follow-ups/", views.log_followup, name="log_followup"),
    path("<int:pk>/contacts/", views.add_contact, name="add_contact"),
    path("<int:pk>/deals/", views.add_deal, name="add_deal"),
    path("<int:pk>/deals/<int:deal_pk>/stage/", views.move_deal, name="move_deal"),
]
